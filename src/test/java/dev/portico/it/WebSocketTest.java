package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.WebSocketBackend;
import dev.portico.testing.WebSocketTestClient;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import dev.portico.testing.UpgradedStreamBackend;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** WebSocket upgrades are forwarded and tunnelled; other upgrades are served as plain HTTP. */
@Timeout(60)
class WebSocketTest {
    private static final String HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
            + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void echoesTextAndATenMebibyteMessageAndCompletesTheCloseHandshake() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            portico.start(b -> b.route("/", backend.url()));
            try (WebSocketTestClient client = WebSocketTestClient.connect(portico.port(), "/ws")) {
                HttpHeaders seen = backend.takeHandshake();
                assertThat(seen.get("upgrade")).isEqualToIgnoringCase("websocket");
                assertThat(seen.get("via")).isEqualTo("1.1 portico");
                assertThat(seen.get("x-forwarded-for")).isEqualTo("127.0.0.1");

                client.send(new TextWebSocketFrame("hello"));
                assertThat(client.next()).isEqualTo("hello");

                byte[] big = new byte[10 << 20];
                new Random(42).nextBytes(big);
                client.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(big)));
                assertThat((byte[]) client.next()).isEqualTo(big);

                client.send(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE, "bye"));
                assertThat(client.next()).isEqualTo(1000);
                assertThat(client.channel().closeFuture().await(5, TimeUnit.SECONDS))
                        .as("the backend's close reaches the client").isTrue();
            }
        }
    }

    @Test
    void aClientThatDoesNotReadHoldsBackTheBackendInTheTunnel() throws Exception {
        try (UpgradedStreamBackend backend = new UpgradedStreamBackend(256L << 20)) {
            portico.start(b -> b.route("/", backend.url()));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                s.setReceiveBufferSize(64 * 1024);
                s.getOutputStream().write(HANDSHAKE.getBytes(StandardCharsets.US_ASCII));
                await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10)).until(() -> {
                    long before = backend.written();
                    Thread.sleep(300);
                    return backend.written() == before;
                });
                assertThat(backend.written()).isLessThan(32L << 20);

                InputStream in = s.getInputStream();
                byte[] buf = new byte[256 * 1024];
                long total = 0;
                int n;
                while ((n = in.read(buf)) > 0) {
                    total += n;
                }
                assertThat(total).isGreaterThan(256L << 20); // the 101 head, then every byte
                assertThat(backend.written()).isEqualTo(256L << 20);
            }
        }
    }

    @Test
    void worksOnAnH2cListenerToo() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                    .route("/", backend.url()).build());
            try (WebSocketTestClient client = WebSocketTestClient.connect(portico.port(), "/ws")) {
                client.send(new TextWebSocketFrame("over h2c"));
                assertThat(client.next()).isEqualTo("over h2c");
            }
        }
    }

    @Test
    void closesATunnelQuietForTunnelIdle() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                    Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(1)).withTunnelIdle(Duration.ofMillis(300)))
                    .route("/", backend.url()));
            try (WebSocketTestClient client = WebSocketTestClient.connect(portico.port(), "/ws")) {
                client.send(new TextWebSocketFrame("ping"));
                assertThat(client.next()).isEqualTo("ping");
                long start = System.nanoTime();
                assertThat(client.channel().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            }
        }
    }

    @Test
    void aBackendRefusingTheUpgradeAnswersAsUsualAndTheConnectionStaysHttp() throws Exception {
        try (TestBackend backend = TestBackend.start((req, ctx) -> ctx.writeAndFlush(TestBackend.text(
                req.uri().equals("/ws") ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.OK, "plain")))) {
            portico.start(b -> b.route("/", backend.url()));
            try (RawClient client = portico.raw()) {
                RawClient.Response refused = client.send(HANDSHAKE).read();
                assertThat(refused.status()).isEqualTo(400);
                assertThat(refused.body()).isEqualTo("plain");
                TestBackend.Received handshake = backend.take();
                assertThat(handshake.headers().get("upgrade")).isEqualTo("websocket");
                assertThat(handshake.headers().get("connection")).isEqualTo("upgrade");
                assertThat(handshake.headers().get("sec-websocket-key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");

                RawClient.Response next = client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").read();
                assertThat(next.status()).isEqualTo(200);
                assertThat(backend.take().uri()).isEqualTo("/next");
            }
        }
    }

    @Test
    void anotherUpgradeTokenIsDroppedAndTheRequestServedAsPlainHttp() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(b -> b.route("/", backend.url()));
            try (RawClient client = portico.raw()) {
                RawClient.Response r = client.send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                        + "Upgrade: foo/2\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                TestBackend.Received seen = backend.take();
                assertThat(seen.headers().contains("upgrade")).isFalse();
                assertThat(seen.headers().contains("connection")).isFalse();
            }
        }
    }

    @Test
    void aWebSocketUpgradeThatIsNotAGetIsServedAsPlainHttp() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(b -> b.route("/", backend.url()));
            try (RawClient client = portico.raw()) {
                RawClient.Response r = client.send("POST /x HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
                        + "Upgrade: websocket\r\nContent-Length: 2\r\n\r\nhi").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(backend.take().headers().contains("upgrade")).isFalse();
            }
        }
    }

    @Test
    void a101ToAWebSocketUpgradeNamingAnotherProtocolIs502() throws Exception {
        try (TestBackend backend = TestBackend.start((req, ctx) -> {
            io.netty.handler.codec.http.FullHttpResponse r = new io.netty.handler.codec.http.DefaultFullHttpResponse(
                    io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
            r.headers().set("upgrade", "h2c").set("connection", "upgrade");
            ctx.writeAndFlush(r);
        })) {
            portico.start(b -> b.route("/", backend.url()));
            try (RawClient client = portico.raw()) {
                assertThat(client.send(HANDSHAKE).read().status()).isEqualTo(502);
            }
        }
    }
}
