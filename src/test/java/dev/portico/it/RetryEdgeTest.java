package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.Upstreams;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Retries at their edges: a body that outgrows retry.buffer while a retry waits, and the retry budget in an outage. */
@Timeout(60)
class RetryEdgeTest {
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

    /** A backend that answers 503 as soon as it has a request head, while the body is still on its way. */
    private static RawBackend answers503Early() throws java.io.IOException {
        return RawBackend.start(conn -> {
            if (conn.readHead() != null) {
                conn.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
                conn.readHead();
            }
        });
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
    }

    @Test
    void aBodyThatOutgrowsTheBufferWhileARetryWaitsFailsWith502() throws Exception {
        try (RawBackend early = answers503Early(); TestBackend echo = TestBackend.echo()) {
            start("retry: {attempts: 1, retry_on: [503], backoff: 300ms, buffer: 8KiB}\n"
                    + "passive: {consecutive_failures: 0}\nbalance: round_robin", early.url(), echo.url());

            try (RawClient c = portico.raw()) {
                c.send("PUT /doc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("first"));
                Awaitility.await().atMost(Duration.ofSeconds(5))
                        .until(() -> Upstreams.of(portico.proxy(), "app").retries() == 1);
                // During the backoff: more than retry.buffer, and (in the same read) the body's end.
                c.send(chunk("x".repeat(20_000)) + "0\r\n\r\n");
                RawClient.Response r = c.read();

                assertThat(r.status()).as("the body can no longer be replayed whole").isEqualTo(502);
            }
            assertThat(echo.pending()).as("no truncated body reached the next backend").isZero();
        }
    }

    @Test
    void aBodyThatOutgrowsTheBufferBeforeItsEndWhileARetryWaitsFailsWith502() throws Exception {
        try (RawBackend early = answers503Early(); TestBackend echo = TestBackend.echo()) {
            start("retry: {attempts: 1, retry_on: [503], backoff: 300ms, buffer: 8KiB}\n"
                    + "passive: {consecutive_failures: 0}\nbalance: round_robin", early.url(), echo.url());

            try (RawClient c = portico.raw()) {
                c.send("PUT /doc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("first"));
                Awaitility.await().atMost(Duration.ofSeconds(5))
                        .until(() -> Upstreams.of(portico.proxy(), "app").retries() == 1);
                c.send(chunk("x".repeat(20_000)));
                RawClient.Response r = c.read();

                assertThat(r.status()).isEqualTo(502);
                assertThat(c.closedByPeer()).as("the rest of the body is not read").isTrue();
            }
            assertThat(echo.pending()).isZero();
        }
    }

    @Test
    void connectionsCutBeforeAnyResponseByteAreRetriedWithinTheBudget() throws Exception {
        RawBackend.Script resets = conn -> {
            if (conn.readHead() != null) {
                conn.reset();
            }
        };
        int clients = 20;
        int perClient = 10;
        int requests = clients * perClient;
        try (RawBackend a = RawBackend.start(resets); RawBackend b = RawBackend.start(resets);
             RawBackend c = RawBackend.start(resets)) {
            start("retry: {attempts: 2, budget_percent: 20}", a.url(), b.url(), c.url());
            ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    running.add(pool.submit(() -> {
                        for (int j = 0; j < perClient; j++) {
                            statuses.add(portico.send(HttpRequest.newBuilder(portico.uri("/x"))
                                    .timeout(Duration.ofSeconds(10)).build()).statusCode());
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

            int tries = a.accepted() + b.accepted() + c.accepted();
            assertThat(statuses).hasSize(requests).containsOnly(502);
            // Fresh connections cut by the backend are failures like any other: the budget (20% of requests in
            // flight, at least 3 retries at once) caps the retries near 1.2 tries a request, where a free retry on
            // every request sent about 2.3.
            assertThat(tries).as("upstream tries for " + requests + " requests").isLessThan(requests * 3 / 2);
            assertThat(Upstreams.of(portico.proxy(), "app").retriesRefusedByBudget()).isPositive();
        }
    }
}
