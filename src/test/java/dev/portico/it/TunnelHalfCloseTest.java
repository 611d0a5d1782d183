package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.testing.PorticoExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A WebSocket tunnel carries a half-close: one side's FIN goes through, the other direction stays open. */
@Timeout(30)
class TunnelHalfCloseTest {
    private static final String HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
            + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    private static final String SWITCH = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void aClientThatShutsItsWriteSideStillGetsTheBackendsAnswer() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Reads the upgraded stream to its end, then answers with what it got: a reply only a half-close allows.
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    InputStream in = s.getInputStream();
                    readHead(in);
                    s.getOutputStream().write(SWITCH.getBytes(StandardCharsets.US_ASCII));
                    String got = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
                    s.getOutputStream().write(("got " + got).getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    return got;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            portico.start(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));

            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                client.setSoTimeout(20_000); // a stall fails the test rather than hanging it
                client.getOutputStream().write(HANDSHAKE.getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.getInputStream();
                assertThat(readHead(in)).startsWith("HTTP/1.1 101");
                client.getOutputStream().write("last words".getBytes(StandardCharsets.US_ASCII));
                client.shutdownOutput();

                assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("got last words");
            }
            assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo("last words");
        }
    }

    @Test
    void aClientThatShutsItsWriteSideAndReadsSlowlyGetsAllOfALargeAnswer() throws Exception {
        long total = 16L << 20;
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Waits for the client's FIN, then sends more than the sockets between it and the client hold: Portico
            // writes to a connection whose input was shut, waiting for the client again and again.
            CompletableFuture<Long> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    InputStream in = s.getInputStream();
                    readHead(in);
                    s.getOutputStream().write(SWITCH.getBytes(StandardCharsets.US_ASCII));
                    in.readAllBytes();
                    byte[] chunk = new byte[64 * 1024];
                    for (long left = total; left > 0; left -= chunk.length) {
                        s.getOutputStream().write(chunk, 0, (int) Math.min(left, chunk.length));
                    }
                    s.shutdownOutput();
                    return total;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            portico.start(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));

            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                client.setSoTimeout(20_000); // a stall fails the test rather than hanging it
                client.setReceiveBufferSize(16 * 1024);
                client.getOutputStream().write(HANDSHAKE.getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.getInputStream();
                assertThat(readHead(in)).startsWith("HTTP/1.1 101");
                client.shutdownOutput();
                long got = 0;
                byte[] buf = new byte[16 * 1024];
                for (int n; (n = in.read(buf)) > 0; ) {
                    got += n;
                    if ((got & ((1 << 20) - 1)) < n) {
                        Thread.sleep(20); // a pause each MiB: Portico's writes wait for the client
                    }
                }
                assertThat(got).as("bytes the client got before the FIN").isEqualTo(total);
            }
            assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo(total);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed in the head: " + head);
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }
}
