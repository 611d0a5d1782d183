package dev.portico.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.H2WebSocketBackend;
import dev.portico.testing.H2WebSocketClient;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.WebSocketTestClient;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket to an HTTP/2 backend (RFC 8441 on the client side): an upgrade routed to an h2c upstream goes out as an
 * extended CONNECT when the backend's SETTINGS enable it, the backend's 200 opens a tunnel over the stream, and a
 * backend that does not enable it gets nothing (the client a 502).
 */
@Timeout(90)
class H2WebSocketUpstreamTest {
    /** RFC 6455 section 1.3's example key and the accept value that answers it. */
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    private int start(H2WebSocketBackend backend, Consumer<ProxyConfig.Builder> more) {
        UpstreamConfig up = UpstreamConfig.builder("ws-h2").servers(backend.url())
                .protocol(UpstreamConfig.Protocol.H2C).build();
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(up));
        more.accept(b);
        portico.start(b.build());
        return portico.port();
    }

    @Test
    void anHttp11UpgradeBecomesAnExtendedConnectAndTheClientGets101WithItsAccept() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> { });
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Protocol: chat\r\nOrigin: http://127.0.0.1\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String head = readHead(s.getInputStream()).toLowerCase();
                assertThat(head).startsWith("http/1.1 101 ");
                assertThat(head).contains("sec-websocket-accept: " + ACCEPT.toLowerCase() + "\r\n");
                assertThat(head).contains("upgrade: websocket\r\n").contains("connection: upgrade\r\n");
                assertThat(head).doesNotContain("transfer-encoding").doesNotContain("content-length");
            }
            Http2Headers seen = backend.takeHead();
            assertThat(seen.method()).hasToString("CONNECT");
            assertThat(seen.get(":protocol")).hasToString("websocket");
            assertThat(seen.scheme()).hasToString("http");
            assertThat(seen.path()).hasToString("/ws");
            assertThat(seen.authority()).isNotNull();
            assertThat(seen.get("sec-websocket-version")).hasToString("13");
            assertThat(seen.get("sec-websocket-protocol")).hasToString("chat");
            assertThat(seen.get("origin")).hasToString("http://127.0.0.1");
            assertThat(seen.get("x-forwarded-for")).hasToString("127.0.0.1");
            assertThat(seen.contains("sec-websocket-key")).isFalse();
            assertThat(seen.contains("upgrade")).isFalse();
            assertThat(seen.contains("connection")).isFalse();
            assertThat(seen.contains("host")).isFalse();
        }
    }

    @Test
    void anHttp11WebSocketClientEchoesFramesBothWaysAndCloses() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> { });
            // Netty's client handshaker checks the 101 and its Sec-WebSocket-Accept.
            try (WebSocketTestClient client = WebSocketTestClient.connect(port, "/ws")) {
                client.send(new TextWebSocketFrame("hello h2 backend"));
                assertThat(client.next()).isEqualTo("hello h2 backend");
                byte[] big = new byte[4 << 20];
                new Random(7).nextBytes(big);
                client.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(big)));
                assertThat((byte[]) client.next()).isEqualTo(big);
                client.send(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE, "bye"));
                assertThat(client.next()).isEqualTo(1000);
                assertThat(client.channel().closeFuture().await(5, TimeUnit.SECONDS))
                        .as("the backend's END_STREAM ends the client's connection").isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.closed() == 1);
        }
    }

    @Test
    void anHttp2ExtendedConnectClientIsTunnelledStreamToStream() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> { });
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws")
                        .set("sec-websocket-protocol", "chat"), false, false);
                assertThat(t.head().status()).hasToString("200");
                assertThat(t.head().get("x-backend")).hasToString("h2");
                assertThat(t.head().get("sec-websocket-accept")).isNull();
                Http2Headers seen = backend.takeHead();
                assertThat(seen.get(":protocol")).hasToString("websocket");
                assertThat(seen.get("sec-websocket-protocol")).hasToString("chat");
                assertThat(seen.contains("sec-websocket-key")).as("RFC 8441 section 5: no key").isFalse();

                t.send(new TextWebSocketFrame("stream to stream"));
                assertThat(t.next()).isEqualTo("stream to stream");
                t.send(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE, "bye"));
                assertThat(t.next()).isEqualTo(1000);
                t.endStream().get(5, TimeUnit.SECONDS);
                assertThat(client.channel().isActive()).isTrue();
            }
        }
    }

    @Test
    void anAutoUpstreamThatChoseH2OverTlsGetsTheExtendedConnectWithSchemeHttps() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("Test CA");
        TestCertificates.Pem pem = TestCertificates.server(ca, "localhost").write(dir, "backend",
                TestCertificates.KeyFormat.PKCS8);
        SslContext tls = SslContextBuilder.forServer(pem.certificate().toFile(), pem.key().toFile())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2)).build();
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true, tls)) {
            Path caFile = ca.write(dir, "ca").certificate();
            UpstreamConfig up = UpstreamConfig.builder("ws-tls").servers("https://127.0.0.1:" + backend.port())
                    .protocol(UpstreamConfig.Protocol.AUTO).tls(t -> t.ca(caFile).serverName("localhost")).build();
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                    .route("/", r -> r.upstream(up)).build());
            try (WebSocketTestClient client = WebSocketTestClient.connect(portico.port(), "/ws")) {
                client.send(new TextWebSocketFrame("over tls"));
                assertThat(client.next()).isEqualTo("over tls");
            }
            Http2Headers seen = backend.takeHead();
            assertThat(seen.method()).hasToString("CONNECT");
            assertThat(seen.scheme()).hasToString("https");
        }
    }

    @Test
    void aBackendWithoutEnableConnectProtocolGetsNoStreamAndTheClient502() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(false)) {
            int port = start(backend, b -> { });
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 502 ");
            }
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                assertThat(t.head().status()).hasToString("502");
            }
            assertThat(backend.connections()).as("Portico did connect and read its SETTINGS").isPositive();
            assertThat(backend.streams()).as("nothing was sent as a plain GET").isZero();
        }
    }

    @Test
    void aRefusalIsRelayedAndA2xxOtherThan200Is502() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> { });
            assertThat(handshake(port, "/status/403")).startsWith("HTTP/1.1 403 ");
            assertThat(handshake(port, "/status/204")).startsWith("HTTP/1.1 502 ");
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                assertThat(client.open(H2WebSocketClient.connectHeaders("/status/403"), false, false).head()
                        .status()).hasToString("403");
                assertThat(client.open(H2WebSocketClient.connectHeaders("/status/204"), false, false).head()
                        .status()).hasToString("502");
            }
            assertThat(backend.streams()).isEqualTo(4);
        }
    }

    private static String handshake(int port, String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return readHead(s.getInputStream());
        }
    }

    @Test
    void aClientThatStopsReadingStallsTheBackendStreamAndTunnelIdleClosesIt() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> b.timeouts(t -> t.tunnelIdle(Duration.ofSeconds(3))));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/stream"), true, true);
                assertThat(t.head().status()).hasToString("200");
                await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> {
                    long before = backend.written();
                    Thread.sleep(200);
                    return before > 0 && backend.written() == before;
                });
                assertThat(backend.written()).as("held back by the backend stream's window").isLessThan(4L << 20);
                assertThat(t.dataBytes()).isLessThan(1 << 20);
                assertThat(backend.closed()).isZero();
                // No byte either way for tunnel_idle: the backend's stream and the client's are closed.
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.closed() == 1);
                // The client's stream was reset too: it learns so once it reads what was queued before it.
                t.resume();
                assertThat(t.stream().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
                assertThat(client.channel().isActive()).isTrue();
            }
        }
    }

    @Test
    void aBackendStreamThatTakesNothingStopsTheClientsUploadUntilItReadsAgain() throws Exception {
        long total = 32L << 20;
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> { });
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/sink"), true, false);
                assertThat(t.head().status()).hasToString("200");
                t.upload(total);
                await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(15)).until(() -> {
                    long before = t.uploaded();
                    Thread.sleep(300);
                    return before > 0 && t.uploaded() == before;
                });
                assertThat(t.uploaded()).as("the backend stream's window and the client stream's, no more")
                        .isLessThan(8L << 20);
                assertThat(backend.received()).isZero();
                backend.resumeSinks();
                await().atMost(Duration.ofSeconds(30)).until(() -> backend.received() == total);
            }
        }
    }

    @Test
    void anHttp11ClientThatStopsReadingHoldsTheBackendStreamBack() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> { });
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(64 * 1024);
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(readHead(s.getInputStream())).startsWith("HTTP/1.1 101 ");
                // The client reads nothing more: the backend is held back by its stream's window.
                await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(15)).until(() -> {
                    long before = backend.written();
                    Thread.sleep(300);
                    return before > 0 && backend.written() == before;
                });
                assertThat(backend.written()).as("socket buffers, the stream's window and no more")
                        .isLessThan(16L << 20);
            }
            // The client's close ends the backend stream.
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.closed() == 1);
        }
    }

    @Test
    void aDrainClosesTheTunnelAndItsBackendStreamAtItsDeadline() throws Exception {
        try (H2WebSocketBackend backend = new H2WebSocketBackend(true)) {
            int port = start(backend, b -> b.timeouts(t -> t.drain(Duration.ofSeconds(1)).drainDelay(Duration.ZERO)));
            try (WebSocketTestClient client = WebSocketTestClient.connect(port, "/ws")) {
                client.send(new TextWebSocketFrame("before"));
                assertThat(client.next()).isEqualTo("before");
                long start = System.nanoTime();
                Thread stopper = new Thread(() -> portico.proxy().stop());
                stopper.start();
                client.send(new TextWebSocketFrame("while draining"));
                assertThat(client.next()).isEqualTo("while draining");
                assertThat(client.channel().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(800),
                        Duration.ofSeconds(8));
                await().atMost(Duration.ofSeconds(5)).until(() -> backend.closed() == 1);
                stopper.join(10_000);
            }
        }
    }

    /** Reads a response head up to its blank line. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            out.write(c);
            String s = out.toString(StandardCharsets.US_ASCII);
            if (s.endsWith("\r\n\r\n")) {
                return s;
            }
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
