package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A graceful stop while a keep-alive response is complete (Portico read its end from the backend) but partly still in
 * Portico, because the client reads slowly: the connection closes only once every byte has been written out.
 *
 * <p>To have bytes waiting in Portico (not only in the kernel) when the exchange ends, the backend sends its chunked
 * body one piece at a time while the client reads nothing, watching the socket queues in
 * {@code /proc/net/tcp}: once a piece Portico read no longer reaches the kernel, the kernel buffer is full, and the
 * body ends. Portico reads the backend only while the client connection is under its write buffer's high-water mark,
 * so the test stops there, after two pieces.
 */
class DrainFlushTest {
    private static final int PIECE = 16 * 1024;
    private static final Path TCP = Path.of("/proc/net/tcp");
    private static final Path TCP6 = Path.of("/proc/net/tcp6");

    @Test
    @Timeout(90)
    void aStopWaitsUntilACompleteResponseIsFlushedToASlowReader() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(TCP), "needs Linux's /proc/net/tcp");
        try (ServerSocket backendServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int backendPort = backendServer.getLocalPort();
            BlockingQueue<Boolean> pieces = new LinkedBlockingQueue<>(); // true: one more piece, false: the end
            BlockingQueue<Integer> written = new LinkedBlockingQueue<>(); // Portico's upstream port, once a write is out
            CompletableFuture<Void> backend = CompletableFuture.runAsync(() -> serve(backendServer, pieces, written));
            ProxyServer proxy = new ProxyServer(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .route("/", "http://127.0.0.1:" + backendPort).build()).start();
            try (AccessLogCapture access = new AccessLogCapture(); Socket client = new Socket()) {
                client.setReceiveBufferSize(4 * 1024);
                client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()));
                int clientPort = client.getLocalPort();
                client.getOutputStream().write("GET /body HTTP/1.1\r\nHost: t\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                pieces.add(true); // the first piece also waits for the connections and the response head
                int upstreamPort = next(written);
                int sent = 1;
                await().until(() -> queued(proxy.port(), clientPort) > 0);
                // Two pieces in a row that Portico read from the backend but could not pass to the kernel: the
                // client's side is full (one alone may be a slow loop), and they wait in Portico's write buffer.
                int misses = 0;
                while (misses < 2) {
                    long before = queued(proxy.port(), clientPort);
                    pieces.add(true);
                    sent++;
                    next(written);
                    readByPortico(backendPort, upstreamPort);
                    try {
                        await().atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(5))
                                .until(() -> queued(proxy.port(), clientPort) > before);
                        misses = 0;
                    } catch (ConditionTimeoutException stays) {
                        misses++;
                    }
                    assertThat(sent).as("the send queue never filled").isLessThan(4096);
                }
                pieces.add(false);
                next(written);
                // Portico read the end of the body: the exchange is over, but its last bytes wait for the client.
                // (The access log line comes only once they are on the wire, so it cannot be what the test waits for.)
                readByPortico(backendPort, upstreamPort);
                long body = (long) sent * PIECE;
                assertThat(queued(proxy.port(), clientPort)).as("bytes in the kernel, the rest is in Portico")
                        .isLessThan(body);
                assertThat(access.find("GET /body")).as("logged before its end was written out").isNull();

                CompletableFuture<Void> stopped = CompletableFuture.runAsync(proxy::stop);
                byte[] response = client.getInputStream().readAllBytes();
                stopped.get(30, TimeUnit.SECONDS);

                assertThat(chunkedBodyLength(response)).as("body bytes received before the close").isEqualTo(body);
                await().until(() -> access.find("GET /body") != null);
                assertThat(access.find("GET /body")).contains("\" 200 " + body + " ");
            } finally {
                proxy.stop();
                backend.cancel(true);
            }
        }
    }

    /** @return the backend's report that its next write is out (Portico's upstream port) */
    private static int next(BlockingQueue<Integer> written) throws InterruptedException {
        Integer port = written.poll(10, TimeUnit.SECONDS);
        assertThat(port).as("the backend wrote").isNotNull();
        return port;
    }

    /** Waits until Portico has read all the backend sent: nothing queued on either end of the upstream connection. */
    private static void readByPortico(int backendPort, int upstreamPort) {
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
                .alias("Portico reads the backend (its write buffer stays under the high-water mark)")
                .until(() -> queued(backendPort, upstreamPort) == 0);
    }

    private static void serve(ServerSocket server, BlockingQueue<Boolean> pieces, BlockingQueue<Integer> written) {
        try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                head.write(in.read());
            }
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] piece = new byte[PIECE];
            while (pieces.take()) {
                out.write((Integer.toHexString(PIECE) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(piece);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                written.add(s.getPort());
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            written.add(s.getPort());
            in.read(); // until Portico closes or the test ends
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Bytes a sender has handed to the kernel and its peer has not read: the send queue of the sender's end of a
     * loopback connection plus the receive queue of the peer's end.
     */
    private static long queued(int senderPort, int peerPort) throws IOException {
        return queue(senderPort, peerPort, true) + queue(peerPort, senderPort, false);
    }

    private static long queue(int localPort, int remotePort, boolean send) throws IOException {
        String local = String.format(Locale.ROOT, ":%04X", localPort);
        String remote = String.format(Locale.ROOT, ":%04X", remotePort);
        for (Path table : new Path[] {TCP, TCP6}) {
            if (!Files.isReadable(table)) {
                continue;
            }
            for (String line : Files.readAllLines(table)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 4 && f[1].endsWith(local) && f[2].endsWith(remote)) {
                    String[] queues = f[4].split(":");
                    return Long.parseLong(queues[send ? 0 : 1], 16);
                }
            }
        }
        throw new AssertionError("connection " + localPort + " -> " + remotePort + " not in /proc/net/tcp or tcp6");
    }

    /** The body length of a chunked HTTP/1.1 response, or -1 if it is cut short. */
    private static long chunkedBodyLength(byte[] response) {
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\r\n\r\n");
        if (at < 0) {
            return -1;
        }
        at += 4;
        long total = 0;
        while (true) {
            int eol = text.indexOf("\r\n", at);
            if (eol < 0) {
                return -1;
            }
            int size = Integer.parseInt(text.substring(at, eol).split(";")[0].trim(), 16);
            if (size == 0) {
                return text.startsWith("\r\n", eol + 2) ? total : -1;
            }
            if (eol + 2 + size + 2 > text.length()) {
                return -1;
            }
            total += size;
            at = eol + 2 + size + 2;
        }
    }
}
