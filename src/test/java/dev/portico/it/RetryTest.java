package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.Upstreams;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Retries: what is retried, where, with which body, and how the budget caps them. */
@Timeout(60)
class RetryTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private ProxyServer start(String upstream, String... urls) {
        return portico.start(ProxyConfig.parse("""
                listen: 127.0.0.1:0
                workers: 1
                timeouts: {connect: 1s, response: 10s, drain: 1s}
                upstreams:
                  app:
                    servers: [%s]
                %s
                routes: {/: app}
                """.formatted(String.join(", ", urls), upstream.indent(4)), "test.yaml"));
    }

    /** A backend that reads a whole request (head and Content-Length body), then resets the connection. */
    private static RawBackend readsThenResets() throws IOException {
        return RawBackend.start(conn -> {
            String head = conn.readHead();
            if (head == null) {
                return;
            }
            conn.readBytes(contentLength(head));
            conn.reset();
        });
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return 0;
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return portico.send(HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void aPostWhoseBodyWasSentIsNeverSentAgain() throws Exception {
        try (RawBackend a = readsThenResets(); RawBackend b = readsThenResets();
             AccessLogCapture log = new AccessLogCapture()) {
            start("retry: {attempts: 3, retry_on: [connect_failure, reset, timeout, 502, 503]}", a.url(), b.url());

            HttpResponse<String> r = send("POST", "/orders", "{\"item\": 1}");

            assertThat(r.statusCode()).isEqualTo(502);
            String seen = a.received() + b.received();
            assertThat(count(seen, "POST /orders")).as("the backends saw the POST exactly once").isEqualTo(1);
            assertThat(a.accepted() + b.accepted()).isEqualTo(1);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> log.find("POST /orders") != null);
            assertThat(log.find("POST /orders")).contains(" 502 ").doesNotContain("attempts=");
        }
    }

    @Test
    void withIdempotentOnlyFalseAPostIsReplayedAfterAReset() throws Exception {
        try (RawBackend reset = readsThenResets(); TestBackend echo = TestBackend.echo()) {
            start("retry: {idempotent_only: false}\npassive: {consecutive_failures: 0}", reset.url(), echo.url());

            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = send("POST", "/orders", "order-" + i);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("POST /orders\norder-" + i);
            }
            assertThat(count(reset.received(), "POST /orders")).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void aPostThatTimedOutIsNotRetried() throws Exception {
        try (TestBackend silent = TestBackend.start((req, ctx) -> { })) {
            start("retry: {attempts: 2, per_try_timeout: 200ms, retry_on: [timeout]}", silent.url());

            HttpResponse<String> r = send("POST", "/pay", "amount=1");

            assertThat(r.statusCode()).isEqualTo(504);
            assertThat(silent.pending()).as("the backend may have acted on it: sent once").isEqualTo(1);
        }
    }

    @Test
    void aGetResetIsRetriedOnAnotherEndpoint() throws Exception {
        try (RawBackend reset = RawBackend.start(conn -> {
                if (conn.readHead() != null) {
                    conn.reset();
                }
            });
             TestBackend ok = TestBackend.echo();
             AccessLogCapture log = new AccessLogCapture()) {
            start("passive: {consecutive_failures: 0}", reset.url(), ok.url());

            for (int i = 0; i < 10; i++) {
                HttpResponse<String> r = send("GET", "/get/" + i, null);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).startsWith("GET /get/" + i);
            }

            assertThat(reset.accepted()).as("tries that reached the resetting backend").isGreaterThanOrEqualTo(4);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> log.find("attempts=2") != null);
            assertThat(log.find("attempts=2")).contains(" 200 ").contains("127.0.0.1:" + ok.port());
            assertThat(Upstreams.of(portico.proxy(), "app").retries()).isEqualTo(reset.accepted());
        }
    }

    @Test
    void aPostIsRetriedWhenItsConnectFailed() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (TestBackend ok = TestBackend.echo()) {
            start("passive: {consecutive_failures: 0}", "http://127.0.0.1:" + deadPort, ok.url());

            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = send("POST", "/orders", "n=" + i);
                assertThat(r.statusCode()).as("nothing was sent: safe to retry").isEqualTo(200);
                assertThat(r.body()).isEqualTo("POST /orders\nn=" + i);
            }
            assertThat(Upstreams.of(portico.proxy(), "app").retries()).isEqualTo(2);
        }
    }

    @Test
    void aBodyOverTheBufferIsStillRetriedAfterAConnectFailure() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (TestBackend ok = TestBackend.echo()) {
            start("retry: {buffer: 1KiB}\npassive: {consecutive_failures: 0}", "http://127.0.0.1:" + deadPort,
                    ok.url());

            for (int i = 0; i < 2; i++) {
                String body = i + "-" + "b".repeat(200 * 1024);
                HttpResponse<String> r = send("PUT", "/big", body);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("PUT /big\n" + body);
            }
            assertThat(Upstreams.of(portico.proxy(), "app").retries()).isEqualTo(1);
        }
    }

    @Test
    void theOnlyEndpointIsTriedAgainWhenThereIsNoOther() throws Exception {
        try (RawBackend flaky = RawBackend.start(conn -> {
            if (conn.readHead() == null) {
                return;
            }
            if (conn.index() == 0) {
                conn.reset();
            } else {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
                conn.readHead();
            }
        })) {
            start("retry: {attempts: 1}", flaky.url());

            HttpResponse<String> r = send("GET", "/x", null);

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("second");
            assertThat(flaky.accepted()).isEqualTo(2);
        }
    }

    @Test
    void aKeepAliveRaceDoesNotUseUpTheConfiguredRetry() throws Exception {
        // Connection 0 serves one request and closes when the next arrives (the backend's idle close racing the
        // proxy's reuse: the free retry); connection 1 resets (a real failure: the configured retry); 2 answers.
        try (RawBackend backend = RawBackend.start(conn -> {
            if (conn.readHead() == null) {
                return;
            }
            switch (conn.index()) {
                case 0 -> {
                    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
                    conn.readHead();
                    conn.close();
                }
                case 1 -> conn.reset();
                default -> {
                    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthird");
                    conn.readHead();
                }
            }
        })) {
            start("retry: {attempts: 1}", backend.url());

            assertThat(send("GET", "/1", null).body()).isEqualTo("first");
            HttpResponse<String> r = send("GET", "/2", null);

            assertThat(backend.accepted()).isEqualTo(3);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("third");
        }
    }

    @Test
    void aBodyIsReplayedAfterA503ThatCameBeforeItsEnd() throws Exception {
        // The first backend answers 503 as soon as it has the head, while the body is still on its way.
        try (RawBackend early = RawBackend.start(conn -> {
                if (conn.readHead() != null) {
                    conn.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
                    conn.readHead();
                }
            });
             TestBackend echo = TestBackend.echo()) {
            start("retry: {attempts: 1, retry_on: [503]}\npassive: {consecutive_failures: 0}", early.url(),
                    echo.url());

            try (RawClient c = portico.raw()) {
                c.send("PUT /doc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> early.accepted() == 1);
                Thread.sleep(100);
                c.send("6\r\n-later\r\n0\r\n\r\n");
                RawClient.Response r = c.read();

                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("PUT /doc\nfirst-later");
            }
        }
    }

    @Test
    void retryOn503ReplaysAPutBody() throws Exception {
        try (TestBackend unavailable = TestBackend.start((req, ctx) -> ctx.writeAndFlush(TestBackend.text(
                HttpResponseStatus.SERVICE_UNAVAILABLE, "busy")));
             TestBackend echo = TestBackend.echo()) {
            start("retry: {retry_on: [503]}", unavailable.url(), echo.url());

            for (int i = 0; i < 4; i++) {
                String body = "v" + i + "-" + "z".repeat(2000);
                HttpResponse<String> r = send("PUT", "/k", body);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("PUT /k\n" + body);
            }
            assertThat(unavailable.pending()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void retryOn503RetriesAGetButNotAPost() throws Exception {
        AtomicInteger unavailableHits = new AtomicInteger();
        try (TestBackend unavailable = TestBackend.start((req, ctx) -> {
                unavailableHits.incrementAndGet();
                ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "busy"));
            });
             TestBackend ok = TestBackend.echo()) {
            start("retry: {retry_on: [503]}", unavailable.url(), ok.url());

            for (int i = 0; i < 10; i++) {
                HttpResponse<String> r = send("GET", "/g", null);
                assertThat(r.statusCode()).isEqualTo(200);
            }
            assertThat(unavailableHits.get()).isGreaterThanOrEqualTo(4);

            int okBefore = ok.pending();
            int postsTo503 = 0;
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = send("POST", "/p", "data");
                if (r.statusCode() == 503) {
                    postsTo503++;
                } else {
                    assertThat(r.statusCode()).isEqualTo(200);
                }
            }
            assertThat(postsTo503).as("a POST answered 503 is passed on, not retried").isPositive();
            assertThat(ok.pending() - okBefore).isEqualTo(4 - postsTo503);
        }
    }

    @Test
    void a503IsPassedOnWhenNotInRetryOn() throws Exception {
        try (TestBackend unavailable = TestBackend.start((req, ctx) -> ctx.writeAndFlush(TestBackend.text(
                HttpResponseStatus.SERVICE_UNAVAILABLE, "busy")))) {
            start("retry: {attempts: 2}", unavailable.url());

            HttpResponse<String> r = send("GET", "/g", null);

            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).isEqualTo("busy");
            assertThat(unavailable.pending()).isEqualTo(1);
        }
    }

    @Test
    void aSmallBodyIsReplayedInFullOnTheRetry() throws Exception {
        try (RawBackend reset = readsThenResets(); TestBackend echo = TestBackend.echo()) {
            start("retry: {attempts: 1, buffer: 16KiB}\npassive: {consecutive_failures: 0}", reset.url(),
                    echo.url());

            for (int i = 0; i < 4; i++) {
                String body = "part-" + i + "-" + "x".repeat(3000) + "-end";
                HttpResponse<String> r = send("PUT", "/doc/" + i, body);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("PUT /doc/" + i + "\n" + body);
            }
            assertThat(count(reset.received(), "PUT /doc/")).as("first tries on the resetting backend")
                    .isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void aChunkedBodyIsReplayedInFullOnTheRetry() throws Exception {
        try (RawBackend reset = RawBackend.start(conn -> {
                if (conn.readHead() != null) {
                    // Read up to the last chunk, then reset.
                    StringBuilder seen = new StringBuilder();
                    while (!seen.toString().endsWith("0\r\n\r\n")) {
                        seen.append((char) conn.readBytes(1)[0]);
                    }
                    conn.reset();
                }
            });
             TestBackend echo = TestBackend.echo()) {
            start("retry: {attempts: 1}\nbalance: round_robin", reset.url(), echo.url());

            for (int i = 0; i < 2; i++) {
                try (RawClient c = portico.raw()) {
                    c.send("PUT /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "5\r\nhello\r\n");
                    Thread.sleep(20);
                    c.send("6\r\n world\r\n0\r\n\r\n");
                    RawClient.Response r = c.read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo("PUT /chunked\nhello world");
                }
            }
            assertThat(reset.accepted()).isEqualTo(1);
        }
    }

    @Test
    void aBodyLongerThanTheBufferIsNeverReplayed() throws Exception {
        try (RawBackend a = readsThenResets(); RawBackend b = readsThenResets()) {
            start("retry: {attempts: 2, buffer: 1KiB}", a.url(), b.url());

            HttpResponse<String> r = send("PUT", "/big", "y".repeat(4096));

            assertThat(r.statusCode()).isEqualTo(502);
            assertThat(count(a.received() + b.received(), "PUT /big")).isEqualTo(1);
        }
    }

    @Test
    void perTryTimeoutTriggersARetryWhenTimeoutIsInRetryOn() throws Exception {
        try (TestBackend silent = TestBackend.start((req, ctx) -> { });
             TestBackend ok = TestBackend.echo()) {
            start("retry: {per_try_timeout: 300ms, retry_on: [timeout]}", silent.url(), ok.url());

            for (int i = 0; i < 4; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = send("GET", "/slow/" + i, null);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("well before timeouts.response (10s)")
                        .isLessThan(Duration.ofSeconds(3));
            }
            assertThat(silent.pending()).as("tries that timed out on the silent backend").isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void perTryTimeoutWithoutTimeoutInRetryOnAnswers504() throws Exception {
        try (TestBackend silent = TestBackend.start((req, ctx) -> { });
             TestBackend ok = TestBackend.echo()) {
            start("retry: {per_try_timeout: 300ms}", silent.url(), ok.url());

            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                statuses.add(send("GET", "/slow", null).statusCode());
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
            }

            assertThat(statuses).containsExactlyInAnyOrder(200, 504);
        }
    }

    @Test
    void theBudgetCapsRetriesInATotalOutage() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        TestBackend.Script unavailable = (req, ctx) -> {
            hits.incrementAndGet();
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "down"));
        };
        int clients = 50;
        int perClient = 8;
        int requests = clients * perClient;
        int attempts = 3;
        try (TestBackend a = TestBackend.start(unavailable); TestBackend b = TestBackend.start(unavailable);
             TestBackend c = TestBackend.start(unavailable)) {
            start("retry: {attempts: %d, retry_on: [503], backoff: 5ms}".formatted(attempts), a.url(), b.url(),
                    c.url());
            ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    running.add(pool.submit(() -> {
                        for (int j = 0; j < perClient; j++) {
                            statuses.add(send("GET", "/x", null).statusCode());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get(40, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }

            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");
            assertThat(statuses).hasSize(requests).containsOnly(503);
            assertThat(hits.get()).as("every try reached a backend: requests plus retries")
                    .isEqualTo(requests + (int) g.retries());
            assertThat(hits.get()).as("backend hits; without a budget " + requests * (1 + attempts))
                    .isLessThan(requests * 2);
            assertThat(g.retriesRefusedByBudget()).isPositive();
        }
    }
}
