package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.H2WebSocketClient;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.UpgradedStreamBackend;
import dev.portico.testing.WebSocketBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
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
 * WebSocket over HTTP/2 (RFC 8441): an extended CONNECT on an h2c or TLS h2 listener is tunnelled to an HTTP/1.1
 * WebSocket backend, under the same backpressure, idle, drain and policy rules as an HTTP/1.1 upgrade.
 */
@Timeout(90)
class Http2WebSocketTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    private int startH2c(Consumer<ProxyConfig.Builder> more) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1);
        more.accept(b);
        portico.start(b.build());
        return portico.port();
    }

    @Test
    void advertisesConnectProtocolAndEchoesFramesBothWaysOverH2c() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            int port = startH2c(b -> b.route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                assertThat(client.settings().connectProtocolEnabled()).isTrue();
                echoes(client, backend);
            }
        }
    }

    @Test
    void echoesOverTlsWithAlpnH2() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("Test CA");
        TestCertificates.Pem pem = TestCertificates.server(ca, "a.test").write(dir, "a");
        SslContext tls = SslContextBuilder.forClient().trustManager(ca.certificate())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2)).build();
        try (WebSocketBackend backend = new WebSocketBackend()) {
            portico.start(ProxyConfig.builder().listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                    ListenerTlsConfig.of(pem.certificate(), pem.key()), false)).workers(1)
                    .route("/", backend.url()).build());
            try (H2WebSocketClient client = H2WebSocketClient.connect(portico.port(), tls)) {
                assertThat(client.settings().connectProtocolEnabled()).isTrue();
                echoes(client, backend);
            }
        }
    }

    private static void echoes(H2WebSocketClient client, WebSocketBackend backend) throws Exception {
        Http2Headers ask = H2WebSocketClient.connectHeaders("/ws").set("sec-websocket-protocol", "chat")
                .set("origin", "http://127.0.0.1");
        H2WebSocketClient.Tunnel t = client.open(ask, false, false);
        assertThat(t.head().status().toString()).isEqualTo("200");
        assertThat(t.head().get("sec-websocket-accept")).isNull();
        assertThat(t.head().get("via")).hasToString("1.1 portico");

        HttpHeaders seen = backend.takeHandshake();
        assertThat(seen.get("upgrade")).isEqualToIgnoringCase("websocket");
        assertThat(seen.get("connection")).isEqualToIgnoringCase("upgrade");
        assertThat(seen.get("sec-websocket-version")).isEqualTo("13");
        assertThat(seen.get("sec-websocket-key")).hasSize(24); // 16 random bytes, base64
        assertThat(seen.get("sec-websocket-protocol")).isEqualTo("chat");
        assertThat(seen.get("origin")).isEqualTo("http://127.0.0.1");
        assertThat(seen.get("x-forwarded-for")).isEqualTo("127.0.0.1");

        t.send(new TextWebSocketFrame("hello over h2"));
        assertThat(t.next()).isEqualTo("hello over h2");
        byte[] big = new byte[4 << 20];
        new Random(42).nextBytes(big);
        t.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(big)));
        assertThat((byte[]) t.next()).isEqualTo(big);

        t.send(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE, "bye"));
        assertThat(t.next()).isEqualTo(1000);
        t.endStream().get(5, TimeUnit.SECONDS); // the backend's close is the stream's END_STREAM
        assertThat(client.channel().isActive()).as("the connection outlives the tunnel").isTrue();
    }

    /** Waits until the backend writes no more: the client reads nothing, and Portico holds the rest back. */
    private static void awaitHeldBack(UpgradedStreamBackend backend) {
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(15)).until(() -> {
            long before = backend.written();
            Thread.sleep(300);
            return backend.written() == before;
        });
    }

    @Test
    void aClientResettingAHeldBackTunnelCostsTheConnectionNothing() throws Exception {
        try (UpgradedStreamBackend backend = new UpgradedStreamBackend(128L << 20);
             AccessLogCapture log = new AccessLogCapture("portico")) {
            // One reset per window: the client's own RST_STREAM is all this connection may spend.
            int port = startH2c(b -> b.http2(h -> h.maxResets(1)).route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, true);
                assertThat(t.head().status().toString()).isEqualTo("200");
                // The client reads nothing: Portico holds the backend's bytes for the stream's window.
                awaitHeldBack(backend);

                t.stream().close().sync(); // RST_STREAM CANCEL

                // What was held for the stream goes with it, quietly: not a client error answered with resets
                // of its own, counted against the connection until it is closed.
                H2WebSocketClient.Tunnel other = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                assertThat(other.head().status().toString()).isEqualTo("200");
                await().atMost(Duration.ofSeconds(10)).until(() -> other.dataBytes() > 1 << 20);
                assertThat(client.channel().isActive()).isTrue();
                assertThat(log.find("stream error")).isNull();
                other.stream().close();
            }
        }
    }

    @Test
    void aClientThatStopsReadingHoldsBackTheBackend() throws Exception {
        long total = 128L << 20;
        try (UpgradedStreamBackend backend = new UpgradedStreamBackend(total)) {
            int port = startH2c(b -> b.route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, true);
                assertThat(t.head().status().toString()).isEqualTo("200");
                awaitHeldBack(backend);
                assertThat(backend.written()).as("what the backend could write before it was held back")
                        .isLessThan(24L << 20);
                assertThat(t.dataBytes()).isLessThan(1 << 20); // the stream's window, and no more
                // The held-back tunnel holds up neither the connection nor another tunnel on it.
                H2WebSocketClient.Tunnel other = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                assertThat(other.head().status().toString()).isEqualTo("200");
                await().atMost(Duration.ofSeconds(10)).until(() -> other.dataBytes() > 1 << 20);
                other.stream().close();

                t.resume();
                await().atMost(Duration.ofSeconds(60)).until(() -> t.dataBytes() == total);
            }
        }
    }

    @Test
    void tunnelIdleClosesTheStreamButNotTheConnection() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            int port = startH2c(b -> b.timeouts(t -> t.tunnelIdle(Duration.ofMillis(300)))
                    .route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                t.send(new TextWebSocketFrame("ping"));
                assertThat(t.next()).isEqualTo("ping");
                long start = System.nanoTime();
                assertThat(t.stream().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
                assertThat(client.channel().isActive()).isTrue();
                H2WebSocketClient.Tunnel again = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                again.send(new TextWebSocketFrame("again"));
                assertThat(again.next()).isEqualTo("again");
            }
        }
    }

    @Test
    void aQuietTunnelOutlivesTimeoutsIdleOfStreamsAndConnections() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            int port = startH2c(b -> b.timeouts(t -> t.idle(Duration.ofMillis(400)))
                    .route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                t.send(new TextWebSocketFrame("first"));
                assertThat(t.next()).isEqualTo("first");
                // Quiet for three times timeouts.idle: only tunnel_idle (1h) may close a tunnel.
                await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3))
                        .until(() -> t.stream().isActive());
                t.send(new TextWebSocketFrame("still here"));
                assertThat(t.next()).isEqualTo("still here");
            }
        }
    }

    @Test
    void aDrainClosesTheTunnelAtItsDeadline() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            int port = startH2c(b -> b.timeouts(t -> t.drain(Duration.ofSeconds(1)).drainDelay(Duration.ZERO))
                    .route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                t.send(new TextWebSocketFrame("before"));
                assertThat(t.next()).isEqualTo("before");
                long start = System.nanoTime();
                Thread stopper = new Thread(() -> portico.proxy().stop());
                stopper.start();
                // Draining: the open tunnel still carries messages until the deadline.
                t.send(new TextWebSocketFrame("while draining"));
                assertThat(t.next()).isEqualTo("while draining");
                assertThat(t.stream().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(client.channel().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(800),
                        Duration.ofSeconds(8));
                stopper.join(10_000);
            }
        }
    }

    @Test
    void aBackendRefusingTheUpgradeIsRelayedWithItsStatus() throws Exception {
        try (TestBackend backend = TestBackend.start((req, ctx) -> ctx.writeAndFlush(
                TestBackend.text(HttpResponseStatus.FORBIDDEN, "no socket for you")))) {
            int port = startH2c(b -> b.route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                assertThat(t.head().status().toString()).isEqualTo("403");
                assertThat(t.body()).isEqualTo("no socket for you");
                TestBackend.Received handshake = backend.take();
                assertThat(handshake.method()).isEqualTo("GET");
                assertThat(handshake.headers().get("upgrade")).isEqualTo("websocket");
                assertThat(handshake.headers().contains("transfer-encoding")).isFalse();
                assertThat(client.channel().isActive()).isTrue();
            }
        }
    }

    @Test
    void aBackendThatIgnoresTheUpgradeAndAnswers200Is502NotAnOpenTunnel() throws Exception {
        try (TestBackend backend = TestBackend.start((req, ctx) -> ctx.writeAndFlush(
                TestBackend.text(HttpResponseStatus.OK, "a page, not a socket")))) {
            int port = startH2c(b -> b.route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), true, false);
                // RFC 8441 section 5: a 2xx would tell the client its WebSocket is open.
                assertThat(t.head().status().toString()).isEqualTo("502");
            }
        }
    }

    @Test
    void theRoutesPoliciesApply() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            int port = startH2c(b -> b.route("/", r -> r.upstream(backend.url())
                    .policies(IpFilterPolicyConfig.deny("127.0.0.0/8"))));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                H2WebSocketClient.Tunnel t = client.open(H2WebSocketClient.connectHeaders("/ws"), false, false);
                assertThat(t.head().status().toString()).isEqualTo("403");
                assertThat(backend.takeHandshake()).isNull();
            }
        }
    }

    @Test
    void anotherProtocolAndPlainConnectAre501AndProtocolWithoutConnectIs400() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            int port = startH2c(b -> b.route("/", backend.url()));
            try (H2WebSocketClient client = H2WebSocketClient.connect(port, null)) {
                Http2Headers other = H2WebSocketClient.connectHeaders("/ws").set(":protocol", "connect-udp");
                assertThat(client.open(other, false, false).head().status().toString()).isEqualTo("501");
                Http2Headers get = H2WebSocketClient.connectHeaders("/ws").method("GET");
                assertThat(client.open(get, false, false).head().status().toString()).isEqualTo("400");
                Http2Headers plain = new io.netty.handler.codec.http2.DefaultHttp2Headers().method("CONNECT")
                        .authority("127.0.0.1:9");
                assertThat(client.open(plain, false, false).head().status().toString()).isEqualTo("501");
                assertThat(client.channel().isActive()).isTrue();
            }
        }
    }
}
