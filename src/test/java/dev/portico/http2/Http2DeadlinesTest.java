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
