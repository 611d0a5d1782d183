package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.Http2Config;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawH2;
import dev.portico.testing.TestBackend;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Flags;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Stream errors a client provokes: answered with RFC 9113's codes, counted against {@code http2.max_resets}. */
@Timeout(60)
class Http2StreamErrorTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final CountDownLatch release = new CountDownLatch(1);
    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        if (req.uri().startsWith("/hold")) {
            Thread t = new Thread(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "late"));
            });
            t.setDaemon(true);
            t.start();
            return;
        }
        ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "ok"));
    });

    /** One way for a client to make the server reset a stream it opened, and the code RFC 9113 asks for. */
    enum Provocation {
        ZERO_WINDOW_UPDATE(Http2Error.PROTOCOL_ERROR, false, (c, s) -> frame(c, 0x8, s, 0, new byte[4])),
        DATA_AFTER_END_STREAM(Http2Error.STREAM_CLOSED, true,
                (c, s) -> frame(c, 0x0, s, 0x1, new byte[] {'x'})),
        WINDOW_OVERFLOW(Http2Error.FLOW_CONTROL_ERROR, false,
                (c, s) -> frame(c, 0x8, s, 0, new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff})),
        PRIORITY_OF_WRONG_LENGTH(Http2Error.FRAME_SIZE_ERROR, false, (c, s) -> frame(c, 0x2, s, 0, new byte[4]));

        final Http2Error code;
        final boolean endStream;
        final BiConsumer<ChannelHandlerContext, Integer> frame;

        Provocation(Http2Error code, boolean endStream, BiConsumer<ChannelHandlerContext, Integer> frame) {
            this.code = code;
            this.endStream = endStream;
            this.frame = frame;
        }
    }

    private static RawH2 current;

    private static void frame(ChannelHandlerContext c, int type, int stream, int flags, byte[] payload) {
        ByteBuf buf = Unpooled.wrappedBuffer(payload);
        current.writer().writeFrame(c, (byte) type, stream, new Http2Flags((short) flags), buf, c.newPromise());
    }

    @AfterEach
    void stop() {
        release.countDown();
        backend.close();
    }

    private void start(int maxResets) {
        Http2Config http2 = new Http2Config(100, Http2Config.DEFAULT_MAX_HEADER_LIST_SIZE, maxResets,
                Duration.ofSeconds(30), Http2Config.DEFAULT_MAX_SMALL_CONTINUATION_FRAMES,
                Http2Config.DEFAULT_MAX_QUEUED_CONTROL_FRAMES, 100);
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .http2(http2).route("/", backend.url()).build());
    }

    @ParameterizedTest
    @EnumSource(Provocation.class)
    void aProvokedStreamErrorResetsTheStreamWithItsOwnCode(Provocation p) throws Exception {
        start(200);
        try (RawH2 h2 = new RawH2(portico.port())) {
            current = h2;
            h2.run(c -> {
                h2.writer().writeHeaders(c, 1, RawH2.get("/hold"), 0, p.endStream, c.newPromise());
                p.frame.accept(c, 1);
            });
            assertThat(h2.await(e -> e.startsWith("RST 1") || e.startsWith("GOAWAY")))
                    .isEqualTo("RST 1 " + p.code.code());
            h2.headers(3, RawH2.get("/fine"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 3") || e.startsWith("GOAWAY")))
                    .isEqualTo("HEADERS 3 200");
        }
    }

    @ParameterizedTest
    @EnumSource(Provocation.class)
    void provokedStreamErrorsCountAgainstMaxResets(Provocation p) throws Exception {
        start(50);
        try (RawH2 h2 = new RawH2(portico.port())) {
            current = h2;
            for (int round = 0; round < 4; round++) {
                int first = 1 + round * 200;
                h2.run(c -> {
                    for (int i = 0; i < 100; i++) {
                        int stream = first + 2 * i;
                        h2.writer().writeHeaders(c, stream, RawH2.get("/hold"), 0, p.endStream, c.newPromise());
                        p.frame.accept(c, stream);
                    }
                });
            }
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo(
                    "GOAWAY " + Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
            assertThat(backend.pending()).isLessThanOrEqualTo(100);
        }
    }

    @Test
    void aPathWithASpaceGets400OnItsStream() throws Exception {
        start(200);
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.headers(1, RawH2.get("/a b"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 1") || e.startsWith("RST 1") || e.startsWith("GOAWAY")))
                    .isEqualTo("HEADERS 1 400");
            h2.headers(3, RawH2.get("/fine"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 3"))).isEqualTo("HEADERS 3 200");
            assertThat(backend.take().uri()).isEqualTo("/fine");
            assertThat(backend.pending()).isZero();
        }
    }

    @Test
    void requestsRefusedBeforeTheirEndCountAgainstMaxResets() throws Exception {
        start(50);
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.run(c -> {
                for (int i = 0; i < 200; i++) {
                    h2.writer().writeHeaders(c, 1 + 2 * i, RawH2.get("/a b"), 0, false, c.newPromise());
                }
            });
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo(
                    "GOAWAY " + Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
        }
    }
}
