package dev.portico.ops;

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
 * A graceful stop while a keep-alive response is complete (logged) but partly still in Portico, because the client
 * reads slowly: the connection closes only once every byte has been written out.
 *
 * <p>To have bytes waiting in Portico (not only in the kernel) when the exchange ends, the backend sends its chunked
 * body one piece at a time while the client reads nothing, watching Portico's socket send queue in
 * {@code /proc/net/tcp}: once a piece no longer reaches the kernel, the kernel buffer is full, and the body ends.
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
            BlockingQueue<Boolean> pieces = new LinkedBlockingQueue<>(); // true: one more piece, false: the end
            CompletableFuture<Void> backend = CompletableFuture.runAsync(() -> serve(backendServer, pieces));
            ProxyServer proxy = new ProxyServer(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .route("/", "http://127.0.0.1:" + backendServer.getLocalPort()).build()).start();
            try (AccessLogCapture access = new AccessLogCapture(); Socket client = new Socket()) {
                client.setReceiveBufferSize(4 * 1024);
                client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()));
                client.getOutputStream().write("GET /body HTTP/1.1\r\nHost: t\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                pieces.add(true); // the first piece also waits for the connections and the response head
                int sent = 1;
                await().until(() -> sendQueue(proxy.port(), client.getLocalPort()) > 0);
                // Two pieces in a row that stay in Portico: the kernel buffer is full (one alone may be a slow loop).
                int misses = 0;
                while (misses < 2) {
                    long queued = sendQueue(proxy.port(), client.getLocalPort());
                    pieces.add(true);
                    sent++;
                    try {
                        await().atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(5))
                                .until(() -> sendQueue(proxy.port(), client.getLocalPort()) > queued);
                        misses = 0;
                    } catch (ConditionTimeoutException stays) {
                        misses++;
                    }
                    assertThat(sent).as("the send queue never filled").isLessThan(4096);
                }
                pieces.add(false);
                await().until(() -> access.find("GET /body") != null);
                assertThat(access.find("GET /body")).contains("\" 200 " + (long) sent * PIECE + " ");

                CompletableFuture<Void> stopped = CompletableFuture.runAsync(proxy::stop);
                byte[] response = client.getInputStream().readAllBytes();
                stopped.get(30, TimeUnit.SECONDS);

                assertThat(chunkedBodyLength(response)).as("body bytes received before the close")
                        .isEqualTo((long) sent * PIECE);
            } finally {
                proxy.stop();
                backend.cancel(true);
            }
        }
    }

    private static void serve(ServerSocket server, BlockingQueue<Boolean> pieces) {
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
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            in.read(); // until Portico closes or the test ends
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Bytes Portico has handed to the kernel and the client has not read: the send queue of Portico's end of the
     * connection plus the receive queue of the client's end.
     */
    private static long sendQueue(int proxyPort, int clientPort) throws IOException {
        return queue(proxyPort, clientPort, true) + queue(clientPort, proxyPort, false);
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
