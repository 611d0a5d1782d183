package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawH2;
import dev.portico.testing.TestBackend;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameTypes;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/2 connections are held only by stream progress: idle and request head deadlines, driven frame by frame. */
@Timeout(60)
class Http2DeadlinesTest {
    private static final Duration IDLE = Duration.ofSeconds(1);
    private static final Duration HEAD = Duration.ofMillis(600);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();
    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        if (req.uri().startsWith("/slow")) {
            // Longer than timeouts.idle, shorter than timeouts.response.
            ctx.executor().schedule(() -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "late")),
                    2500, TimeUnit.MILLISECONDS);
            return;
        }
        ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "ok"));
    });

    @AfterEach
    void stop() {
        pinger.shutdownNow();
        backend.close();
    }

    private void start(Duration idle, Duration requestHeader) {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .timeouts(new TimeoutsConfig(Duration.ofSeconds(5), Duration.ofSeconds(10), idle, requestHeader,
                        Duration.ofSeconds(5)))
                .route("/", backend.url()).build());
    }

    /** Sends a PING every 200 ms, far below the control-frame limit, until the test ends. */
    private void keepPinging(RawH2 h2) {
        pinger.scheduleAtFixedRate(() -> {
            try {
                h2.run(c -> h2.writer().writePing(c, false, 42L, c.newPromise()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 0, 200, TimeUnit.MILLISECONDS);
    }

    @Test
    void pingsDoNotKeepAConnectionWithNoOpenStreamPastTheIdleTimeout() throws Exception {
        start(IDLE, Duration.ofSeconds(10));
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.headers(1, RawH2.get("/x"), true);
            assertThat(h2.await(e -> e.equals("END 1"))).isNotNull();
            long idleFrom = System.nanoTime();
            keepPinging(h2);

            await().atMost(Duration.ofSeconds(8)).until(() -> h2.seen("CLOSED"));
            assertThat(h2.seen("GOAWAY " + Http2Error.NO_ERROR.code())).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - idleFrom)).isGreaterThanOrEqualTo(IDLE);
        }
    }

    @Test
    void aConnectionThatOpensNoStreamIsClosedAfterTheRequestHeaderTimeout() throws Exception {
        start(Duration.ofSeconds(30), HEAD);
        try (RawH2 h2 = new RawH2(portico.port())) {
            keepPinging(h2);

            await().atMost(Duration.ofSeconds(8)).until(() -> h2.seen("CLOSED"));
            assertThat(h2.seen("GOAWAY " + Http2Error.NO_ERROR.code())).isTrue();
        }
    }

    @Test
    void anUnfinishedHeaderBlockClosesTheConnectionAfterTheRequestHeaderTimeout() throws Exception {
        start(Duration.ofSeconds(30), HEAD);
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.headers(1, RawH2.get("/x"), true);
            assertThat(h2.await(e -> e.equals("END 1"))).isNotNull();

            // HEADERS without END_HEADERS, and never the CONTINUATION that would end the block.
            long sent = System.nanoTime();
            h2.run(c -> {
                ByteBuf block = Unpooled.buffer();
                try {
                    new DefaultHttp2HeadersEncoder().encodeHeaders(3, RawH2.get("/x"), block);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                h2.writer().writeFrame(c, Http2FrameTypes.HEADERS, 3, new Http2Flags().endOfStream(true), block,
                        c.newPromise());
            });

            await().atMost(Duration.ofSeconds(8)).until(() -> h2.seen("CLOSED"));
            assertThat(h2.seen("GOAWAY " + Http2Error.PROTOCOL_ERROR.code())).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(HEAD);
        }
    }

    @Test
    void afterAnH2cUpgradeAnUnfinishedHeaderBlockClosesTheConnectionToo() throws Exception {
        start(Duration.ofSeconds(30), HEAD);
        try (Socket s = new Socket("127.0.0.1", portico.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            DataInputStream in = new DataInputStream(s.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.readUnsignedByte());
            }
            assertThat(head.toString()).startsWith("HTTP/1.1 101");
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 0x4, 0, 0, 0, 0, 0}); // SETTINGS, empty
            // HEADERS on stream 3 with END_STREAM, without END_HEADERS: ":method: GET", and no CONTINUATION.
            out.write(new byte[] {0, 0, 1, 0x1, 0x1, 0, 0, 0, 3, (byte) 0x82});
            out.flush();
            long sent = System.nanoTime();

            long goAwayCode = -1;
            try {
                while (true) { // frames until the connection closes
                    int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
                    int type = in.readUnsignedByte();
                    in.readUnsignedByte();
                    in.readInt();
                    byte[] payload = in.readNBytes(length);
                    if (type == Http2FrameTypes.GO_AWAY) {
                        goAwayCode = ByteBuffer.wrap(payload, 4, 4).getInt();
                    }
                }
            } catch (EOFException | SocketException closed) {
                // closed by Portico, as expected
            }
            assertThat(goAwayCode).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(HEAD)
                    .isLessThan(Duration.ofSeconds(8));
        }
    }

    @Test
    void aStreamWaitingForASlowBackendKeepsItsConnectionPastTheIdleTimeout() throws Exception {
        start(IDLE, HEAD);
        try (RawH2 h2 = new RawH2(portico.port())) {
            keepPinging(h2);
            h2.headers(1, RawH2.get("/slow"), true);

            assertThat(h2.await(e -> e.equals("HEADERS 1 200") || e.equals("CLOSED"))).isEqualTo("HEADERS 1 200");
            assertThat(h2.await(e -> e.equals("END 1") || e.equals("CLOSED"))).isEqualTo("END 1");
            assertThat(h2.seen("CLOSED")).isFalse();
            assertThat(backend.take().uri()).isEqualTo("/slow");
        }
    }
}
