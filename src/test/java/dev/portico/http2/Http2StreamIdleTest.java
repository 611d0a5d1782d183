package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawH2;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2Headers;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The idle timeout of HTTP/2 streams, which the streams of a connection share one timer task for: each quiet stream
 * is answered once it has been quiet for {@code timeouts.idle}, whenever it began, and the connection goes on.
 */
@Timeout(60)
class Http2StreamIdleTest {
    private static final Duration IDLE = Duration.ofMillis(1500);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.start((req, ctx) ->
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "ok")));

    @AfterEach
    void stop() {
        backend.close();
    }

    private static Http2Headers upload(String path) {
        return RawH2.get(path).method("POST").setInt("content-length", 10);
    }

    @Test
    void streamsThatStopSendingTheirBodiesAreEachAnsweredAfterTheIdleTimeout() throws Exception {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .timeouts(new TimeoutsConfig(Duration.ofSeconds(5), Duration.ofSeconds(20), IDLE,
                        Duration.ofSeconds(5), Duration.ofSeconds(5)))
                .route("/", backend.url()).build());
        try (RawH2 h2 = new RawH2(portico.port())) {
            long first = System.nanoTime();
            h2.headers(1, upload("/one"), false); // a body announced, never sent
            Thread.sleep(IDLE.toMillis() / 2); // the second stream begins half an idle time later
            long second = System.nanoTime();
            h2.headers(3, upload("/two"), false);

            assertThat(h2.await(e -> e.startsWith("HEADERS 1 ") || e.equals("CLOSED"))).isEqualTo("HEADERS 1 408");
            assertThat(Duration.ofNanos(System.nanoTime() - first)).isGreaterThanOrEqualTo(IDLE);
            assertThat(h2.await(e -> e.startsWith("HEADERS 3 ") || e.equals("CLOSED"))).isEqualTo("HEADERS 3 408");
            assertThat(Duration.ofNanos(System.nanoTime() - second)).isGreaterThanOrEqualTo(IDLE)
                    .isLessThan(IDLE.multipliedBy(4));

            h2.headers(5, RawH2.get("/after"), true); // the connection still serves
            assertThat(h2.await(e -> e.startsWith("HEADERS 5 ") || e.equals("CLOSED"))).isEqualTo("HEADERS 5 200");
            assertThat(h2.seen("CLOSED")).isFalse();
        }
    }
}
