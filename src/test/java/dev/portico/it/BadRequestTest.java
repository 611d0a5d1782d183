package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Requests Portico refuses: the status, the close, and that nothing reaches the backend. */
@Timeout(30)
class BadRequestTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private TestBackend backend;

    @BeforeEach
    void startBackend() {
        backend = TestBackend.echo();
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "GET / HTTP/1.1\\r\\nHost : a\\r\\n\\r\\n|400",
        "GET / HTTP/1.1\\r\\n\\r\\n|400",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n|400",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1\\r\\nContent-Length: 2\\r\\n\\r\\nab|400",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n|400",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n|400",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n|501",
        "CONNECT a:443 HTTP/1.1\\r\\nHost: a:443\\r\\n\\r\\n|501",
        "GET * HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400",
        "GET /x HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n|505",
        "GET nohost HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nX: a\\u0001b\\r\\n\\r\\n|400",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nX: a\\r\\n folded\\r\\n\\r\\n|400",
        "GET / HTTP/1.1\\nHost: a\\n\\n|400",
        "GET /public/../admin HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400",
        "GET /public/%2e%2E/admin HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|400",
    })
    void rejectsAndClosesWithoutContactingTheBackend(String request, int status) throws Exception {
        portico.start(b -> b.route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send(unescape(request));
            RawClient.Response r = c.read();

            assertThat(r.status()).isEqualTo(status);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void respondsWith414ToALongRequestLineAnd431ToLargeHeaders() throws Exception {
        portico.start(b -> b.limits(new LimitsConfig(1024, 2048, 0)).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(414);
        }
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(3000) + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(431);
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void respondsWith413BeforeContactingTheBackendWhenContentLengthIsOverTheRouteLimit() throws Exception {
        portico.start(b -> b.route(new RouteConfig("/", "", UpstreamUrl.parse(backend.url()), false, 10)));
        try (RawClient c = portico.raw()) {
            c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(413);
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void respondsWith413AndAbortsTheUpstreamRequestWhenAChunkedBodyCrossesTheLimit() throws Exception {
        portico.start(b -> b.limits(new LimitsConfig(8192, 65536, 10)).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n");
            Thread.sleep(100); // let the first chunk go upstream before the one that crosses the limit
            c.send("8\r\n12345678\r\n0\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(413);
        }
        assertThat(backend.pending()).as("the backend never saw a complete request").isZero();
    }

    @Test
    void respondsWith408WhenTheRequestHeadIsTooSlow() throws Exception {
        portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(1))).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void aHeadTrickledInManyReadsGets408OnTheDeadlineOfItsFirstByte() throws Exception {
        portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofSeconds(1))).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            long first = System.nanoTime();
            c.send("GET / HTTP/1.1\r\n");
            c.socket().setSoTimeout(100);
            long answeredAfter = -1;
            for (int i = 0; i < 30 && answeredAfter < 0; i++) { // a field every 100 ms, for up to 3 s
                try {
                    c.send("X-" + i + ": y\r\n");
                } catch (java.io.IOException closed) {
                    answeredAfter = (System.nanoTime() - first) / 1_000_000;
                    break;
                }
                try {
                    if (c.socket().getInputStream().read() >= 0) {
                        answeredAfter = (System.nanoTime() - first) / 1_000_000;
                    }
                } catch (java.net.SocketTimeoutException quiet) {
                    // no answer yet: the next field
                }
            }
            assertThat(answeredAfter).as("answered (408) or closed, in ms from the first byte")
                    .isBetween(400L, 1_500L);
        }
    }

    @Test
    void aPartialHeadSentBehindASlowExchangeCountsItsDeadlineFromItsBytes() throws Exception {
        backend.script((req, ctx) -> ctx.executor().schedule(
                () -> ctx.writeAndFlush(TestBackend.text(io.netty.handler.codec.http.HttpResponseStatus.OK, "slow")),
                900, java.util.concurrent.TimeUnit.MILLISECONDS));
        portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofMillis(400), Duration.ofSeconds(1))).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            Thread.sleep(100); // in a read of its own, while the exchange waits for the backend
            c.send("GET /next HTTP/1.1\r\nHost: a\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            long afterFirst = System.nanoTime();
            assertThat(c.read().status()).isEqualTo(408);
            assertThat((System.nanoTime() - afterFirst) / 1_000_000)
                    .as("the head's 400 ms had run out while the first exchange took 900 ms").isLessThan(300L);
        }
    }

    @Test
    void closesAnIdleConnectionThatSentNothingWithoutAResponse() throws Exception {
        portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ofSeconds(1))).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            long start = System.nanoTime();
            assertThat(c.closedByPeer()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void respondsWith408WhenTheClientStallsMidBody() throws Exception {
        portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofMillis(400), Duration.ofSeconds(5), Duration.ofSeconds(1))).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(408);
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(backend.pending()).isZero();
    }

    private static String unescape(String s) {
        return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0001", "\u0001");
    }
}
