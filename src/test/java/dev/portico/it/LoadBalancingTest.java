package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.portico.ProxyServer;
import dev.portico.balance.Endpoint;
import dev.portico.balance.UpstreamGroup;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.RestartableBackend;
import dev.portico.testing.TestBackend;
import dev.portico.testing.Upstreams;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Endpoint selection, health and connection limits through the proxy, against real backends. */
@Timeout(60)
class LoadBalancingTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private ProxyServer start(String yaml) {
        return start(1, "{connect: 1s, response: 5s, drain: 1s}", yaml);
    }

    private ProxyServer start(int workers, String timeouts, String yaml) {
        return portico.start(ProxyConfig.parse("""
                listen: 127.0.0.1:0
                workers: %d
                access_log: {enabled: false}
                timeouts: %s
                """.formatted(workers, timeouts) + yaml, "test.yaml"));
    }

    /** @return a backend answering its name; {@code /healthz} answers {@code health}'s status */
    private static TestBackend named(String name, AtomicInteger health) {
        return TestBackend.start((req, ctx) -> ctx.writeAndFlush(req.uri().equals("/healthz")
                ? TestBackend.text(HttpResponseStatus.valueOf(health.get()), "health")
                : TestBackend.text(HttpResponseStatus.OK, name)));
    }

    private static TestBackend named(String name) {
        return named(name, new AtomicInteger(200));
    }

    private static TestBackend answering(int status, String name) {
        return TestBackend.start((req, ctx) -> ctx.writeAndFlush(TestBackend.text(
                HttpResponseStatus.valueOf(status), name)));
    }

    private static String servers(Object... backends) {
        StringBuilder b = new StringBuilder("[");
        for (Object o : backends) {
            String url = o instanceof TestBackend t ? t.url() : ((RestartableBackend) o).url();
            b.append(b.length() == 1 ? "" : ", ").append(url);
        }
        return b.append(']').toString();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return portico.send(b.build());
    }

    /** @return how many of {@code n} GETs of {@code path} each backend (by body) answered; all must be 200 */
    private Map<String, Integer> spread(int n, String path) throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).isEqualTo(200);
            counts.merge(r.body(), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void roundRobinFollowsTheWeightsExactly() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b"); TestBackend c = named("c")) {
            start("""
                    upstreams:
                      app:
                        servers:
                          - {url: %s, weight: 1}
                          - {url: %s, weight: 2}
                          - {url: %s, weight: 3}
                    routes: {/: app}
                    """.formatted(a.url(), b.url(), c.url()));

            assertThat(spread(120, "/x")).isEqualTo(Map.of("a", 20, "b", 40, "c", 60));
        }
    }

    @Test
    void randomFollowsTheWeights() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b")) {
            start("""
                    upstreams:
                      app:
                        balance: random
                        servers:
                          - {url: %s, weight: 1}
                          - {url: %s, weight: 3}
                    routes: {/: app}
                    """.formatted(a.url(), b.url()));
            int n = 400;

            Map<String, Integer> counts = spread(n, "/x");

            // The exact check (10,000 selections within 5%) is UpstreamGroupTest's; here: the weights reach the proxy.
            assertThat(counts.get("a") / (double) n).isCloseTo(0.25, within(0.1));
        }
    }

    @Test
    void aNamedUpstreamsPathIsPrependedAndPrefixStrippingStillApplies() throws Exception {
        try (TestBackend a = TestBackend.echo(); TestBackend b = TestBackend.echo()) {
            start("""
                    upstreams:
                      app:
                        servers: [%s/base, %s/base]
                    routes:
                      - {path: /api, upstream: app, strip_prefix: true}
                      - {path: /, upstream: app}
                    """.formatted(a.url(), b.url()));

            assertThat(get("/api/users?id=1").body()).startsWith("GET /base/users?id=1\n");
            assertThat(get("/other").body()).startsWith("GET /base/other\n");
            assertThat(a.pending()).isEqualTo(1);
            assertThat(b.pending()).isEqualTo(1);
        }
    }

    @Test
    void routesNamingOneUpstreamShareItsState() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b")) {
            start("""
                    upstreams:
                      app:
                        servers: %s
                    routes:
                      /one: app
                      /two: app
                    """.formatted(servers(a, b)));

            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                seen.add(get(i % 2 == 0 ? "/one" : "/two").body());
            }

            assertThat(seen).as("one round robin over both routes").containsExactly("a", "b", "a", "b", "a", "b",
                    "a", "b", "a", "b");
            assertThat(Upstreams.all(portico.proxy())).hasSize(1);
        }
    }

    @Test
    void leastRequestSendsNewRequestsToTheLessBusyBackend() throws Exception {
        List<ChannelHandlerContext> held = new ArrayList<>();
        try (TestBackend busy = TestBackend.start((req, ctx) -> {
                synchronized (held) {
                    held.add(ctx);
                }
            });
             TestBackend free = named("free")) {
            start("""
                    upstreams:
                      app:
                        balance: least_request
                        servers: %s
                    routes: {/: app}
                    """.formatted(servers(busy, free)));

            // Send until one request sticks on the busy backend (each lands there with probability 1/2).
            List<CompletableFuture<HttpResponse<String>>> stuck = new ArrayList<>();
            for (int i = 0; i < 60 && busy.pending() == 0; i++) {
                CompletableFuture<HttpResponse<String>> f = portico.client().sendAsync(HttpRequest.newBuilder(
                        portico.uri("/first")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> f.isDone() || busy.pending() > 0);
                if (!f.isDone()) {
                    stuck.add(f);
                }
            }
            assertThat(busy.pending()).as("one request is held by the busy backend").isEqualTo(1);

            assertThat(spread(100, "/next")).as("every new request goes to the idle backend")
                    .isEqualTo(Map.of("free", 100));
            assertThat(busy.pending()).isEqualTo(1);

            synchronized (held) {
                held.forEach(ctx -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "busy")));
            }
            assertThat(stuck).singleElement().satisfies(f ->
                    assertThat(f.get(5, TimeUnit.SECONDS).body()).isEqualTo("busy"));
        }
    }

    @Test
    void hashOnHeaderKeepsEachKeyOnOneBackend() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b"); TestBackend c = named("c")) {
            start(hashUpstream("header:X-User", a, b, c));

            assertAffinity(user -> get("/x", "X-User", user).body());
            Set<String> withoutKey = new HashSet<>(spread(6, "/x").keySet());
            assertThat(withoutKey).as("no key: requests are spread").hasSize(3);
        }
    }

    @Test
    void hashOnCookieKeepsEachKeyOnOneBackend() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b"); TestBackend c = named("c")) {
            start(hashUpstream("cookie:session", a, b, c));

            assertAffinity(user -> get("/x", "Cookie", "theme=dark; session=" + user).body());
        }
    }

    @Test
    void hashOnPathIgnoresTheQuery() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b"); TestBackend c = named("c")) {
            start(hashUpstream("path", a, b, c));

            assertAffinity(user -> get("/items/" + user + "?n=" + System.nanoTime()).body());
        }
    }

    @Test
    void hashOnClientIpSendsOneClientToOneBackend() throws Exception {
        try (TestBackend a = named("a"); TestBackend b = named("b"); TestBackend c = named("c")) {
            start(hashUpstream("client_ip", a, b, c));

            Set<String> backends = new HashSet<>();
            for (int i = 0; i < 30; i++) {
                try (RawClient client = portico.raw()) { // a new connection (and source port) each time
                    client.send("GET /x HTTP/1.1\r\nHost: test\r\n\r\n");
                    RawClient.Response r = client.read();
                    assertThat(r.status()).isEqualTo(200);
                    backends.add(r.body());
                }
            }

            assertThat(backends).as("every request of 127.0.0.1 on one backend").hasSize(1);
        }
    }

    private static String hashUpstream(String hashOn, TestBackend... backends) {
        return """
                upstreams:
                  app:
                    balance: hash
                    hash_on: "%s"
                    servers: %s
                routes: {/: app}
                """.formatted(hashOn, servers((Object[]) backends));
    }

    private interface KeyedGet {
        String backendFor(String key) throws Exception;
    }

    private static void assertAffinity(KeyedGet get) throws Exception {
        Map<String, String> owner = new HashMap<>();
        for (int round = 0; round < 3; round++) {
            for (int u = 0; u < 30; u++) {
                String key = "user" + u;
                String backend = get.backendFor(key);
                String first = owner.putIfAbsent(key, backend);
                assertThat(backend).as(key + " in round " + round).isEqualTo(first == null ? backend : first);
            }
        }
        assertThat(new HashSet<>(owner.values())).as("keys spread over the backends").hasSizeGreaterThan(1);
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

            Map<String, Integer> counts = spread200or500(40);

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

            spread200or500(30);
            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");
            assertThat(g.ejections()).as("half of three is one").isEqualTo(1);

            Map<String, Integer> counts = spread200or500(30);

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

    private Map<String, Integer> spread200or500(int n) throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get("/x");
            assertThat(r.statusCode()).isIn(200, 500);
            counts.merge(r.body(), 1, Integer::sum);
        }
        return counts;
    }

    // ---- connection limits ----

    /** A backend that holds {@code /hold} until released and answers anything else at once. */
    private static final class Holding {
        final ConcurrentLinkedQueue<ChannelHandlerContext> held = new ConcurrentLinkedQueue<>();
        final TestBackend backend = TestBackend.start((req, ctx) -> {
            if (req.uri().equals("/hold")) {
                held.add(ctx);
            } else {
                ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "fast"));
            }
        });

        void release() {
            ChannelHandlerContext ctx;
            while ((ctx = held.poll()) != null) {
                ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "held"));
            }
        }
    }

    private CompletableFuture<HttpResponse<String>> sendAsync(String path) {
        return portico.client().sendAsync(HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void maxConnectionsAnswers503AtOnceWhenNoRequestMayWait() throws Exception {
        Holding h = new Holding();
        try (TestBackend backend = h.backend) {
            start("""
                    upstreams:
                      app:
                        servers: [%s]
                        max_connections: 1
                    routes: {/: app}
                    """.formatted(backend.url()));
            CompletableFuture<HttpResponse<String>> first = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.held.size() == 1);

            long start = System.nanoTime();
            HttpResponse<String> refused = get("/fast");
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(took).as("refused at once, not after the connect timeout").isLessThan(Duration.ofMillis(500));
            h.release();
            assertThat(first.get(5, TimeUnit.SECONDS).body()).isEqualTo("held");
            assertThat(get("/fast").statusCode()).as("the slot is free again").isEqualTo(200);
            assertThat(backend.connections()).isEqualTo(1);
        }
    }

    @Test
    void anEndpointAtMaxConnectionsIsPassedOverWhileAnotherHasRoom() throws Exception {
        // max_pending: "requests waiting for a connection when every endpoint is at max_connections; more get 503"
        Holding a = new Holding();
        Holding b = new Holding();
        try (TestBackend ab = a.backend; TestBackend bb = b.backend) {
            start("""
                    upstreams:
                      app:
                        servers: [%s, %s]
                        max_connections: 1
                    routes: {/: app}
                    """.formatted(ab.url(), bb.url()));
            CompletableFuture<HttpResponse<String>> held = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> a.held.size() + b.held.size() == 1);

            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                statuses.add(get("/fast").statusCode());
            }

            a.release();
            b.release();
            assertThat(held.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(statuses).as("one endpoint is busy, the other is free").containsOnly(200);
        }
    }

    @ParameterizedTest(name = "workers={0}")
    @ValueSource(ints = {1, 2})
    void maxPendingLetsARequestWaitForAFreeConnection(int workers) throws Exception {
        Holding h = new Holding();
        try (TestBackend backend = h.backend) {
            start(workers, "{connect: 3s, response: 5s, drain: 1s}", """
                    upstreams:
                      app:
                        servers: [%s]
                        max_connections: 1
                        max_pending: 1
                    routes: {/: app}
                    """.formatted(backend.url()));
            CompletableFuture<HttpResponse<String>> first = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.held.size() == 1);

            CompletableFuture<HttpResponse<String>> waiting = sendAsync("/fast");
            Thread.sleep(200);
            assertThat(waiting).as("waits for the only connection").isNotDone();
            assertThat(get("/fast").statusCode()).as("the queue is full: 503").isEqualTo(503);

            h.release();
            assertThat(first.get(5, TimeUnit.SECONDS).body()).isEqualTo("held");
            HttpResponse<String> served = waiting.get(5, TimeUnit.SECONDS);
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(served.body()).isEqualTo("fast");
        }
    }

    @Test
    void anIdleConnectionOfAnotherLoopDoesNotUseUpMaxConnections() throws Exception {
        try (TestBackend backend = named("ok")) {
            start(2, "{connect: 1s, response: 5s, drain: 1s}", """
                    upstreams:
                      app:
                        servers: [%s]
                        max_connections: 1
                    routes: {/: app}
                    """.formatted(backend.url()));

            // One request at a time, each on a new client connection: the proxy's loops take turns.
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                try (RawClient c = portico.raw()) {
                    c.send("GET /x HTTP/1.1\r\nHost: test\r\n\r\n");
                    statuses.add(c.read().status());
                }
            }

            assertThat(statuses).as("never more than one request at a time: never over max_connections")
                    .containsOnly(200);
        }
    }

    // ---- the scenario that matters most ----

    @Test
    void aBackendRestartedMidRunCostsNoClientRequest() throws Exception {
        int total = 2_000;
        int concurrency = 50;
        try (RestartableBackend a = new RestartableBackend("a"); RestartableBackend b = new RestartableBackend("b");
             RestartableBackend c = new RestartableBackend("c")) {
            start(2, "{connect: 1s, response: 5s, drain: 1s}", """
                    upstreams:
                      app:
                        servers: %s
                        passive: {eject_for: 1s}
                    routes: {/: app}
                    """.formatted(servers(a, b, c)));
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            AtomicInteger issued = new AtomicInteger();
            AtomicInteger completed = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            Map<String, Integer> served = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(concurrency);
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < concurrency; w++) {
                workers.add(pool.submit(() -> {
                    while (issued.incrementAndGet() <= total) {
                        try {
                            HttpResponse<String> r = client.send(HttpRequest.newBuilder(portico.uri("/r"))
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200) {
                                failures.add(r.statusCode() + " " + r.body());
                            } else {
                                served.merge(r.body(), 1, Integer::sum);
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                        completed.incrementAndGet();
                    }
                    return null;
                }));
            }
            try {
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> completed.get() >= total / 4);
                int bBefore = b.served();
                b.stop();
                int stoppedAt = completed.get();
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> completed.get() >= stoppedAt + 300);
                b.start();
                int restartedAt = completed.get();
                for (Future<?> f : workers) {
                    f.get(30, TimeUnit.SECONDS);
                }

                assertThat(bBefore).as("b took traffic before it stopped").isPositive();
                assertThat(restartedAt).as("the restart happened mid-run").isLessThan(total);
                UpstreamGroup g = Upstreams.of(portico.proxy(), "app");
                assertThat(failures).as("failed client requests (retries %d, refused by the budget %d, ejections %d)",
                        g.retries(), g.retriesRefusedByBudget(), g.ejections()).isEmpty();
                assertThat(served.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
            } finally {
                pool.shutdownNow();
            }

            // Once its ejection is over, the restarted backend takes traffic again.
            int bAfter = b.served();
            Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                get("/again");
                return b.served() > bAfter;
            });
        }
    }
}
