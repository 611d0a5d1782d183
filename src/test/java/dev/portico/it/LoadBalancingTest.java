package dev.portico.it;

import static dev.portico.testing.Balancing.named;
import static dev.portico.testing.Balancing.servers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.portico.ProxyServer;
import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.testing.Balancing;
import dev.portico.testing.HoldingBackend;
import dev.portico.testing.LoadRunner;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.RestartableBackend;
import dev.portico.testing.TestBackend;
import dev.portico.testing.Upstreams;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Endpoint selection and connection limits through the proxy, against real backends, and a restart under load. */
@Timeout(60)
class LoadBalancingTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private ProxyServer start(String yaml) {
        return Balancing.start(portico, yaml);
    }

    private ProxyServer start(int workers, String timeouts, String yaml) {
        return Balancing.start(portico, workers, timeouts, yaml);
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return Balancing.get(portico, path, headers);
    }

    private Map<String, Integer> spread(int n, String path) throws Exception {
        return Balancing.spread(portico, n, path);
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
    void aServerGivenByHostNameIsResolved() throws Exception {
        try (TestBackend a = TestBackend.echo()) {
            start("""
                    upstreams:
                      app:
                        servers: [http://localhost:%d]
                    routes: {/: app}
                    """.formatted(a.port()));

            assertThat(Upstreams.of(portico.proxy(), "app").endpoints()).extracting(e -> e.text())
                    .containsExactly("127.0.0.1:" + a.port());
            assertThat(get("/x").body()).startsWith("GET /x");
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
                """.formatted(hashOn, servers(backends));
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

    // ---- connection limits ----

    private CompletableFuture<HttpResponse<String>> sendAsync(String path) {
        return portico.client().sendAsync(HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void maxConnectionsAnswers503AtOnceWhenNoRequestMayWait() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            start("""
                    upstreams:
                      app:
                        servers: [%s]
                        max_connections: 1
                    routes: {/: app}
                    """.formatted(backend.url()));
            CompletableFuture<HttpResponse<String>> first = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.held() == 1);

            long start = System.nanoTime();
            HttpResponse<String> refused = get("/fast");
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(took).as("refused at once, not after the connect timeout").isLessThan(Duration.ofMillis(500));
            backend.release();
            assertThat(first.get(5, TimeUnit.SECONDS).body()).isEqualTo("held");
            assertThat(get("/fast").statusCode()).as("the slot is free again").isEqualTo(200);
            assertThat(backend.connections()).isEqualTo(1);
        }
    }

    @Test
    void anEndpointAtMaxConnectionsIsPassedOverWhileAnotherHasRoom() throws Exception {
        // max_pending: "requests waiting for a connection when every endpoint is at max_connections; more get 503"
        try (HoldingBackend a = new HoldingBackend(); HoldingBackend b = new HoldingBackend()) {
            start("""
                    upstreams:
                      app:
                        servers: [%s, %s]
                        max_connections: 1
                    routes: {/: app}
                    """.formatted(a.url(), b.url()));
            CompletableFuture<HttpResponse<String>> held = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> a.held() + b.held() == 1);

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
        try (HoldingBackend backend = new HoldingBackend()) {
            start(workers, "{connect: 3s, response: 5s, drain: 1s}", """
                    upstreams:
                      app:
                        servers: [%s]
                        max_connections: 1
                        max_pending: 1
                    routes: {/: app}
                    """.formatted(backend.url()));
            CompletableFuture<HttpResponse<String>> first = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.held() == 1);

            CompletableFuture<HttpResponse<String>> waiting = sendAsync("/fast");
            Thread.sleep(200);
            assertThat(waiting).as("waits for the only connection").isNotDone();
            assertThat(get("/fast").statusCode()).as("the queue is full: 503").isEqualTo(503);

            backend.release();
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

    @Test
    void maxConnectionsHoldsUnderConcurrentLoadAndEveryWaiterIsServed() throws Exception {
        // Requests being answered at once: each holds a connection the proxy counts (a closed connection's end is
        // seen late by the backend, so open sockets are no measure).
        AtomicInteger busy = new AtomicInteger();
        AtomicInteger maxBusy = new AtomicInteger();
        try (RawBackend backend = RawBackend.start(conn -> {
            while (conn.readHead() != null) {
                maxBusy.accumulateAndGet(busy.incrementAndGet(), Math::max);
                sleep(3);
                busy.decrementAndGet();
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        })) {
            start(2, "{connect: 5s, response: 5s, drain: 1s}", """
                    upstreams:
                      app:
                        servers: [%s]
                        max_connections: 2
                        max_pending: 100
                    routes: {/: app}
                    """.formatted(backend.url()));

            try (LoadRunner load = new LoadRunner(portico.uri("/x"), 200, 20)) {
                load.await(Duration.ofSeconds(40));

                assertThat(load.failures()).isEmpty();
                assertThat(load.bodies()).isEqualTo(Map.of("ok", 200));
            }
            assertThat(maxBusy.get()).as("requests at the backend at once").isBetween(1, 2);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the scenario that matters most ----

    @Test
    void aBackendRestartedMidRunCostsNoClientRequest() throws Exception {
        try (RestartableBackend a = new RestartableBackend("a"); RestartableBackend b = new RestartableBackend("b");
             RestartableBackend c = new RestartableBackend("c")) {
            start(2, "{connect: 1s, response: 5s, drain: 1s}", """
                    upstreams:
                      app:
                        servers: [%s, %s, %s]
                        passive: {eject_for: 1s}
                    routes: {/: app}
                    """.formatted(a.url(), b.url(), c.url()));
            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");

            try (LoadRunner load = new LoadRunner(portico.uri("/r"), 2_000, 50)) {
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> load.completed() >= 500);
                int bBefore = b.served();
                b.stop();
                int stoppedAt = load.completed();
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> load.completed() >= stoppedAt + 300);
                b.start();
                int restartedAt = load.completed();
                load.await(Duration.ofSeconds(30));

                assertThat(bBefore).as("b took traffic before it stopped").isPositive();
                assertThat(restartedAt).as("the restart happened mid-run").isLessThan(load.total());
                assertThat(load.failures()).as("failed client requests (retries %d, refused by the budget %d, "
                        + "ejections %d)", g.retries(), g.retriesRefusedByBudget(), g.ejections()).isEmpty();
                assertThat(load.bodies().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(2_000);
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
