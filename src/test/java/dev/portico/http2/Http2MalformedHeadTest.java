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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A request head Netty's decoder rejects costs the client that stream only (RFC 9113 section 5.1). */
@Timeout(60)
class Http2MalformedHeadTest {
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

    @AfterEach
    void stop() {
        release.countDown();
        backend.close();
    }

    @Test
    void framesOnAStreamResetForAMalformedHeadAreIgnored() throws Exception {
        start(200);
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.headers(1, RawH2.get("/hold"), true);
            assertThat(backend.take().uri()).isEqualTo("/hold");
            h2.run(c -> {
                h2.writer().writeHeaders(c, 3, RawH2.get("/a").add("bad name", "v"), 0, false, c.newPromise());
                h2.writer().writeData(c, 3, Unpooled.wrappedBuffer(new byte[100]), 0, true, c.newPromise());
            });
            assertThat(h2.await(e -> e.startsWith("RST 3") || e.startsWith("GOAWAY")))
                    .isEqualTo("RST 3 " + Http2Error.PROTOCOL_ERROR.code());
            release.countDown();
            assertThat(h2.await(e -> e.startsWith("HEADERS 1") || e.startsWith("GOAWAY") || e.equals("CLOSED")))
                    .isEqualTo("HEADERS 1 200");
            h2.headers(5, RawH2.get("/fine"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 5") || e.startsWith("GOAWAY")))
                    .isEqualTo("HEADERS 5 200");
        }
    }

    private void start(int maxResets) {
        Http2Config d = Http2Config.DEFAULTS;
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .http2(new Http2Config(d.maxConcurrentStreams(), d.maxHeaderListSize(), maxResets, d.resetWindow(),
                        d.maxSmallContinuationFrames(), d.maxQueuedControlFrames(), d.maxControlFramesPerSecond()))
                .route("/", backend.url()).build());
    }
}
