package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.Http2Config;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawH2;
import dev.portico.testing.TestBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2Headers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The HTTP/2 abuse limits and request checks, driven frame by frame. */
@Timeout(60)
class Http2AbuseTest {
    private static final long ENHANCE_YOUR_CALM = Http2Error.ENHANCE_YOUR_CALM.code();

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final CountDownLatch release = new CountDownLatch(1);
    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        if (req.uri().startsWith("/hold")) {
            // Answer only when the test is done, from another thread: the backend's loop stays free.
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

    @AfterEach
    void stop() {
        release.countDown();
        backend.close();
    }

    private void start(Http2Config http2) {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .http2(http2).route("/", backend.url()).build());
    }

    private static Http2Config limits(int maxStreams, int maxResets, int maxControlFrames) {
        return new Http2Config(maxStreams, Http2Config.DEFAULT_MAX_HEADER_LIST_SIZE, maxResets,
                Duration.ofSeconds(30), Http2Config.DEFAULT_MAX_SMALL_CONTINUATION_FRAMES,
                Http2Config.DEFAULT_MAX_QUEUED_CONTROL_FRAMES, maxControlFrames);
    }

    @Test
    void aRapidResetBurstClosesTheConnectionWithGoAway() throws Exception {
        start(limits(100, 50, 100));
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.run(c -> {
                for (int i = 0; i < 500; i++) {
                    int stream = 1 + 2 * i;
                    h2.writer().writeHeaders(c, stream, RawH2.get("/x"), 0, true, c.newPromise());
                    h2.writer().writeRstStream(c, stream, Http2Error.CANCEL.code(), c.newPromise());
                }
            });
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + ENHANCE_YOUR_CALM);
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
        }
    }

    @Test
    void malformedRequestsThatMakePorticoResetStreamsCountAgainstTheLimitToo() throws Exception {
        start(limits(100, 50, 100));
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.run(c -> {
                for (int i = 0; i < 200; i++) {
                    h2.writer().writeHeaders(c, 1 + 2 * i, RawH2.get("/x").add("connection", "close"), 0, true,
                            c.newPromise());
                }
            });
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + ENHANCE_YOUR_CALM);
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
            assertThat(backend.pending()).isZero();
        }
    }

    @Test
    void theGoAwayReachesAClientThatIsStillSending() throws Exception {
        start(limits(100, 50, 100));
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.run(c -> {
                for (int i = 0; i < 60; i++) {
                    h2.writer().writeHeaders(c, 1 + 2 * i, RawH2.get("/x").add("connection", "close"), 0, true,
                            c.newPromise());
                }
                // 1 MiB more (frames of an unknown type, which HTTP/2 ignores): still unread when Portico closes.
                for (int i = 0; i < 64; i++) {
                    h2.writer().writeFrame(c, (byte) 0x21, 0, new Http2Flags(),
                            Unpooled.wrappedBuffer(new byte[16_384]), c.newPromise());
                }
            });
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + ENHANCE_YOUR_CALM);
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
        }
    }

    @Test
    void refusesStreamsBeyondMaxConcurrentStreams() throws Exception {
        start(limits(3, 200, 100));
        try (RawH2 h2 = new RawH2(portico.port())) {
            // The server's limit applies once the client acknowledged its SETTINGS (RFC 9113 section 6.5.3).
            assertThat(h2.await(e -> e.startsWith("SETTINGS"))).isNotNull();
            for (int stream = 1; stream <= 7; stream += 2) {
                h2.headers(stream, RawH2.get("/hold"), true);
            }
            assertThat(h2.await(e -> e.startsWith("RST"))).isEqualTo("RST 7 " + Http2Error.REFUSED_STREAM.code());
            release.countDown();
            // The held responses come back in no fixed order: the backend answers them from a thread each.
            assertThat(h2.awaitAll(List.of("HEADERS 1 200", "HEADERS 3 200", "HEADERS 5 200"))).isEmpty();
        }
    }

    @Test
    void aGracefulStopSendsGoAwayAndLetsTheOpenStreamFinish() throws Exception {
        start(Http2Config.DEFAULTS);
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.headers(1, RawH2.get("/hold"), true);
            assertThat(backend.take().uri()).isEqualTo("/hold");
            Thread stopper = new Thread(() -> portico.proxy().stop());
            stopper.start();
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo("GOAWAY 0");
            release.countDown();
            assertThat(h2.await(e -> e.startsWith("HEADERS 1"))).isEqualTo("HEADERS 1 200");
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
            stopper.join(10_000);
            assertThat(stopper.isAlive()).isFalse();
        }
    }

    @Test
    void aFloodOfPingsClosesTheConnectionWithGoAway() throws Exception {
        start(limits(100, 200, 20));
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.run(c -> {
                for (int i = 0; i < 100; i++) {
                    h2.writer().writePing(c, false, i, c.newPromise());
                }
            });
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + ENHANCE_YOUR_CALM);
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
        }
    }

    @Test
    void answersBadRequestsOnTheirStreamAndServesTheNextOne() throws Exception {
        start(Http2Config.DEFAULTS);
        try (RawH2 h2 = new RawH2(portico.port())) {
            Http2Headers noAuthority = RawH2.get("/a");
            noAuthority.remove(":authority");
            h2.headers(1, noAuthority, true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 1"))).isEqualTo("HEADERS 1 400");

            Http2Headers connect = RawH2.get("/a").method("CONNECT");
            h2.headers(3, connect, true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 3"))).isEqualTo("HEADERS 3 501");

            h2.headers(5, RawH2.get("/a").authority("bad host"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 5"))).isEqualTo("HEADERS 5 400");

            h2.headers(7, RawH2.get("http://elsewhere/a"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 7"))).isEqualTo("HEADERS 7 400");

            h2.headers(9, RawH2.get("/a/../b"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 9"))).isEqualTo("HEADERS 9 400");

            // A connection-specific field makes the request malformed: the stream is reset (RFC 9113 8.2.2).
            h2.headers(11, RawH2.get("/a").add("connection", "keep-alive"), true);
            assertThat(h2.await(e -> e.startsWith("RST 11") || e.startsWith("HEADERS 11")))
                    .isEqualTo("RST 11 " + Http2Error.PROTOCOL_ERROR.code());

            h2.headers(13, RawH2.get("/fine"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 13"))).isEqualTo("HEADERS 13 200");
            assertThat(backend.take().uri()).isEqualTo("/fine");
            assertThat(backend.pending()).isZero();
        }
    }

    @Test
    void aHeadOverMaxHeaderListSizeGets431OnItsStream() throws Exception {
        start(new Http2Config(100, 4096, 200, Duration.ofSeconds(30), 16, 10_000, 100));
        try (RawH2 h2 = new RawH2(portico.port())) {
            assertThat(h2.await(e -> e.startsWith("SETTINGS"))).isNotNull();
            h2.headers(1, RawH2.get("/a").add("x-big", "v".repeat(4500)), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 1") || e.startsWith("RST 1") || e.startsWith("GOAWAY")))
                    .isEqualTo("HEADERS 1 431");
            h2.headers(3, RawH2.get("/fine"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 3"))).isEqualTo("HEADERS 3 200");
        }
    }

    /** Frames that carry no request, sent as fast as the client can: each kind alone must close the connection. */
    enum ControlFlood {
        PRIORITY(0x2, 0, 1, new byte[] {0, 0, 0, 0, 16}),
        UNKNOWN_TYPE(0x21, 0, 0, new byte[8]),
        WINDOW_UPDATE(0x8, 0, 0, new byte[] {0, 0, 0, 1}),
        SETTINGS_ACK(0x4, 0x1, 0, new byte[0]);

        final int type;
        final int flags;
        final int stream;
        final byte[] payload;

        ControlFlood(int type, int flags, int stream, byte[] payload) {
            this.type = type;
            this.flags = flags;
            this.stream = stream;
            this.payload = payload;
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(ControlFlood.class)
    void aFloodOfFramesWithoutRequestsClosesTheConnectionWithGoAway(ControlFlood flood) throws Exception {
        start(limits(100, 200, 20));
        try (RawH2 h2 = new RawH2(portico.port())) {
            assertThat(h2.await(e -> e.startsWith("SETTINGS"))).isNotNull();
            h2.run(c -> {
                for (int i = 0; i < 200; i++) {
                    h2.writer().writeFrame(c, (byte) flood.type, flood.stream, new Http2Flags((short) flood.flags),
                            Unpooled.wrappedBuffer(flood.payload), c.newPromise());
                }
            });
            assertThat(h2.await(e -> e.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + ENHANCE_YOUR_CALM);
            assertThat(h2.await(e -> e.equals("CLOSED"))).isNotNull();
        }
    }
}
