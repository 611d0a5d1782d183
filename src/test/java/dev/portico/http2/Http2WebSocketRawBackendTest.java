package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.H2WebSocketClient;
import dev.portico.testing.PorticoExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WebSocket over HTTP/2 against a backend written on plain sockets, so each byte and each FIN is the test's: the
 * half-close, bytes sent before the 200, the check of the backend's accept value, and a backend that stops reading.
 */
@Timeout(90)
class Http2WebSocketRawBackendTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private int startH2c(Consumer<ProxyConfig.Builder> more) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1);
        more.accept(b);
        portico.start(b.build());
        return portico.port();
    }

    @Test
    void endStreamIsAHalfCloseAndBytesSentBeforeTheAnswerArriveFirst() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Reads the tunnel to its end, then answers with what it got: a reply only a half-close allows.
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    InputStream in = s.getInputStream();
                    String head = switchProtocols(s);
                    String got = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
                    s.getOutputStream().write(("got " + got).getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    return head.startsWith("GET /ws HTTP/1.1\r\n") ? got : "unexpected head: " + head;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            int port = startH2c(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                t.sendRaw("early, ", false); // before the 200: kept until the tunnel opens
                assertThat(t.head().status().toString()).isEqualTo("200");
                t.sendRaw("last words", true);
                assertThat(t.body()).isEqualTo("got early, last words");
                assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo("early, last words");
                assertThat(t.stream().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void aBackendThatStopsReadingHoldsBackTheClientsStream() throws Exception {
        long total = 64L << 20;
        CompletableFuture<Void> readNow = new CompletableFuture<>();
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Long> received = countingBackend(backend, 64 * 1024, false, 0, readNow);
            int port = startH2c(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                assertThat(t.head().status().toString()).isEqualTo("200");
                t.upload(total);
                awaitUploadHeldBack(t);
                assertThat(t.uploaded()).as("what the client could send before its stream's window shut")
                        .isLessThan(24L << 20);

                readNow.complete(null);
                assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo(total); // then END_STREAM as the FIN
            } finally {
                readNow.complete(null); // the backend's thread never waits past the test
            }
        }
    }

    @Test
    void aBackendThatEndedItsSideAndReadsSlowlyGetsAllTheClientSends() throws Exception {
        long total = 16L << 20;
        CompletableFuture<Void> readNow = new CompletableFuture<>();
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Half-closes at once (Portico ends the client's stream), then reads slowly once told: Portico writes to
            // a backend connection whose input was shut, waiting for the backend again and again.
            CompletableFuture<Long> received = countingBackend(backend, 16 * 1024, true, 1, readNow);
            int port = startH2c(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                assertThat(t.head().status().toString()).isEqualTo("200");
                t.endStream().get(5, TimeUnit.SECONDS); // the backend's FIN
                t.upload(total); // its last frame ends the stream
                awaitUploadHeldBack(t);
                readNow.complete(null);
                assertThat(received.get(30, TimeUnit.SECONDS)).as("bytes the backend got, then the FIN")
                        .isEqualTo(total);
            } finally {
                readNow.complete(null); // the backend's thread never waits past the test
            }
        }
    }

    @Test
    void aTunnelWhoseBackendEndsFirstEndsWithoutAResetOnceTheClientEndsToo() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Says bye and sends its FIN, then reads the client's bytes to its FIN.
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    switchProtocols(s);
                    s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            int port = startH2c(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                assertThat(t.head().status().toString()).isEqualTo("200");
                assertThat(t.body()).isEqualTo("bye"); // then END_STREAM, the backend's FIN
                t.sendRaw("bye too", true);
                assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo("bye too");
                assertThat(t.stream().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
                // Both sides ended the stream: a RST_STREAM after that would say it was cut short.
                await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                        .until(() -> client.channel().isActive());
                assertThat(client.resetsReceived()).isZero();
            }
        }
    }

    @Test
    void a101WhoseAcceptDoesNotAnswerPorticosKeyIs502() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture.runAsync(() -> {
                try (Socket s = backend.accept()) {
                    readHead(s.getInputStream());
                    s.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getInputStream().read(); // until Portico closes
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            int port = startH2c(b -> b.route("/", "http://127.0.0.1:" + backend.getLocalPort()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                assertThat(t.head().status().toString()).isEqualTo("502");
            }
        }
    }

    /**
     * A backend that answers the upgrade, then (with {@code finFirst}) sends its FIN, waits for {@code readNow} and
     * counts what it reads to the FIN, pausing {@code pauseMillis} after each read of at most its receive buffer.
     */
    private static CompletableFuture<Long> countingBackend(ServerSocket backend, int receiveBuffer, boolean finFirst,
                                                           long pauseMillis, CompletableFuture<Void> readNow) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = backend.accept()) {
                s.setReceiveBufferSize(receiveBuffer);
                switchProtocols(s);
                if (finFirst) {
                    s.shutdownOutput();
                }
                readNow.join(); // not reading until told
                long n = 0;
                byte[] buf = new byte[receiveBuffer];
                for (int r; (r = s.getInputStream().read(buf)) > 0; ) {
                    n += r;
                    Thread.sleep(pauseMillis);
                }
                return n;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1L;
            }
        });
    }

    /** Waits until the client's upload stops: its stream's window shut, Portico holding the rest back. */
    private static void awaitUploadHeldBack(H2WebSocketClient.Tunnel t) {
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(15)).until(() -> {
            long before = t.uploaded();
            Thread.sleep(300);
            return t.uploaded() == before;
        });
    }

    /** Reads the request head from {@code s} and answers it with a 101 whose accept value answers its key. */
    private static String switchProtocols(Socket s) throws IOException {
        String head = readHead(s.getInputStream());
        s.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept(head) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return head;
    }

    /** The handshake's answer to the key in {@code head} (RFC 6455 section 4.2.2), as a backend computes it. */
    private static String accept(String head) {
        String key = head.lines().filter(l -> l.regionMatches(true, 0, "sec-websocket-key:", 0, 18))
                .map(l -> l.substring(18).trim()).findFirst().orElse("");
        try {
            return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
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
