package dev.portico.internal.balance;

import static dev.portico.testing.Balancing.answering;
import static dev.portico.testing.Balancing.named;
import static dev.portico.testing.Balancing.servers;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.testing.Balancing;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.Upstreams;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Active health checks, passive ejection and panic mode through the proxy, against real backends. */
@Timeout(60)
class UpstreamHealthTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private ProxyServer start(String yaml) {
        return Balancing.start(portico, yaml);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return Balancing.get(portico, path);
    }

    private Map<String, Integer> spread(int n, String path) throws Exception {
        return Balancing.spread(portico, n, path);
    }

    /** Like {@link #spread} where a 500 (the backend's, passed on) is fine too. */
    private Map<String, Integer> spreadAny(int n) throws Exception {
        return Balancing.spread(portico, n, "/x", 200, 500);
    }

    @Test
    void anActiveHealthCheckTakesAFailingBackendOutAndBringsItBack() throws Exception {
        AtomicInteger bHealth = new AtomicInteger(200);
        try (TestBackend a = named("a"); TestBackend b = named("b", bHealth)) {
            start("""
                    upstreams:
                      app:
                        servers: %s
                        health_check: {path: /healthz, interval: 100ms, timeout: 500ms,
                                       unhealthy_threshold: 2, healthy_threshold: 2}
                    routes: {/: app}
                    """.formatted(servers(a, b)));
            assertThat(spread(10, "/x")).isEqualTo(Map.of("a", 5, "b", 5));
            Endpoint bEndpoint = Upstreams.of(portico.proxy(), "app").endpoints().get(1);

            bHealth.set(503);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !bEndpoint.healthy());
            assertThat(spread(20, "/x")).isEqualTo(Map.of("a", 20));

            bHealth.set(200);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(bEndpoint::healthy);
            assertThat(spread(10, "/x")).isEqualTo(Map.of("a", 5, "b", 5));
        }
    }

    @Test
    void consecutiveFailuresEjectABackend() throws Exception {
        try (TestBackend good = named("good"); TestBackend bad = answering(500, "bad")) {
            start("""
                    upstreams:
                      app:
                        servers: %s
                        passive: {consecutive_failures: 3, on_5xx: true}
                        retry: {attempts: 0}
                    routes: {/: app}
                    """.formatted(servers(good, bad)));

            Map<String, Integer> counts = spreadAny(40);

            assertThat(counts).isEqualTo(Map.of("good", 37, "bad", 3));
            assertThat(Upstreams.of(portico.proxy(), "app").ejections()).isEqualTo(1);
        }
    }

    @Test
    void connectFailuresEjectADeadBackendWhileRetriesHideThem() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (TestBackend good = named("good")) {
            start("""
                    upstreams:
                      app:
                        servers: [%s, http://127.0.0.1:%d]
                        passive: {consecutive_failures: 2}
                    routes: {/: app}
                    """.formatted(good.url(), deadPort));
            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");

            assertThat(spread(20, "/x")).isEqualTo(Map.of("good", 20));

            assertThat(g.ejections()).isEqualTo(1);
            assertThat(g.retries()).as("a retry per failed connect, two before the ejection").isEqualTo(2);
        }
    }

    @Test
    void maxEjectedPercentKeepsMostBackendsInAndPanicStillUsesTheOthers() throws Exception {
        try (TestBackend a = answering(500, "a"); TestBackend b = answering(500, "b");
             TestBackend c = answering(500, "c")) {
            start("""
                    upstreams:
                      app:
                        servers: %s
                        passive: {consecutive_failures: 2, on_5xx: true, max_ejected_percent: 50}
                        retry: {attempts: 0}
                    routes: {/: app}
                    """.formatted(servers(a, b, c)));

            spreadAny(30);
            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");
            assertThat(g.ejections()).as("half of three is one").isEqualTo(1);

            Map<String, Integer> counts = spreadAny(30);

            assertThat(g.ejections()).isEqualTo(1);
            assertThat(counts).as("the two backends not ejected keep taking traffic").hasSize(2);
            assertThat(counts.values()).containsExactly(15, 15);
        }
    }

    @Test
    void whenEveryBackendIsOutRequestsStillTryThem() throws Exception {
        try (TestBackend a = named("a", new AtomicInteger(503)); TestBackend b = named("b", new AtomicInteger(503))) {
            start("""
                    upstreams:
                      app:
                        servers: %s
                        health_check: {path: /healthz, interval: 100ms, unhealthy_threshold: 1}
                    routes: {/: app}
                    """.formatted(servers(a, b)));
            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> g.endpoints().stream().noneMatch(Endpoint::healthy));

            assertThat(spread(10, "/x")).as("panic mode: not a 503").isEqualTo(Map.of("a", 5, "b", 5));
        }
    }

    @Test
    void whenEveryBackendIsEjectedRequestsStillTryThem() throws Exception {
        AtomicInteger status = new AtomicInteger(500);
        try (TestBackend a = TestBackend.start((req, ctx) -> ctx.writeAndFlush(TestBackend.text(
                HttpResponseStatus.valueOf(status.get()), "a")))) {
            start("""
                    upstreams:
                      app:
                        servers: [%s]
                        passive: {consecutive_failures: 1, on_5xx: true, max_ejected_percent: 100}
                    routes: {/: app}
                    """.formatted(a.url()));

            assertThat(get("/x").statusCode()).isEqualTo(500);
            assertThat(Upstreams.of(portico.proxy(), "app").ejections()).isEqualTo(1);
            status.set(200);

            HttpResponse<String> r = get("/x");
            assertThat(r.statusCode()).as("the ejected backend is still tried").isEqualTo(200);
            assertThat(r.body()).isEqualTo("a");
        }
    }
}
