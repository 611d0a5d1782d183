package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.ProxyServer;
import dev.portico.config.ListenAddress;
import dev.portico.config.OperationsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.RateLimitPolicyConfig.OnStoreFailure;
import dev.portico.config.RateLimitPolicyConfig.Store;
import dev.portico.testing.RedisServer;
import dev.portico.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** {@code rate_limit} with {@code store: redis} against a real redis-server: sharing, failure, recovery, lease. */
@Timeout(120)
class RedisRateLimitTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private RedisServer redis;
    private final TestBackend backend = TestBackend.echo();
    private final List<ProxyServer> proxies = new ArrayList<>();

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisServer.start();
    }

    @AfterEach
    void stopAll() throws Exception {
        proxies.forEach(ProxyServer::stop);
        backend.close();
        redis.close();
    }

    private ProxyServer proxy(Duration timeout, RateLimitPolicyConfig... routes) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                .redis(redis.url(), r -> r.timeout(timeout))
                .operations(new OperationsConfig(new ListenAddress("127.0.0.1", 0), true,
                        OperationsConfig.DEFAULT_REQUEST_ID_HEADER, false, false));
        for (RateLimitPolicyConfig p : routes) {
            b.route("/" + p.name(), r -> r.upstream(backend.url()).policies(p));
        }
        ProxyServer p = new ProxyServer(b.build()).start();
        proxies.add(p);
        return p;
    }

    private static RateLimitPolicyConfig shared(String name, long lease) {
        return RateLimitPolicyConfig.builder("50/s").name(name).burst(50).store(Store.REDIS).lease(lease).build();
    }

    @Test
    void twoInstancesSharingOneRedisAdmitOneLimit() throws Exception {
        ProxyServer a = proxy(Duration.ofSeconds(1), shared("api", 0), shared("warm", 0));
        ProxyServer b = proxy(Duration.ofSeconds(1), shared("api", 0), shared("warm", 0));
        warmUp(a, b);

        Load load = Load.run(List.of(uri(a, "/api"), uri(b, "/api")), 200, Duration.ofSeconds(5));

        // burst 50 + 50/s for 5 s: 300 ± 10 %, whatever instance a request went to.
        System.out.printf("two instances, 1,000 requests in 5 s: admitted %d (%d and %d), refused %d%n",
                load.count(200), load.perTarget(0, 200), load.perTarget(1, 200), load.count(429));
        assertThat(load.count(200)).isBetween(270, 330);
        assertThat(load.count(429)).isEqualTo(1000 - load.count(200));
        assertThat(load.perTarget(0, 200)).isPositive();
        assertThat(load.perTarget(1, 200)).isPositive();
        // Lettuce ran on the proxies' event loops: it made no I/O or callback threads of its own.
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(n -> n.startsWith("lettuce-") && n.contains("Loop"));
    }

    @Test
    void leaseCutsRedisCommandsWhileAdmissionStaysClose() throws Exception {
        long[] commands = new long[2];
        int[] admitted = new int[2];
        long[] leases = {0, 10};
        for (int i = 0; i < 2; i++) {
            String name = "lease" + leases[i];
            ProxyServer a = proxy(Duration.ofSeconds(1), shared(name, leases[i]), shared("warm", leases[i]));
            ProxyServer b = proxy(Duration.ofSeconds(1), shared(name, leases[i]), shared("warm", leases[i]));
            warmUp(a, b);
            redis.command("CONFIG", "RESETSTAT");

            Load load = Load.run(List.of(uri(a, "/" + name), uri(b, "/" + name)), 200, Duration.ofSeconds(5));

            commands[i] = redis.calls("evalsha") + redis.calls("eval");
            admitted[i] = load.count(200);
            System.out.printf("lease %d: %d Redis commands per 1,000 requests; admitted %d of an ideal 300 "
                    + "(error %+.1f%%)%n", leases[i], commands[i], admitted[i], (admitted[i] - 300) / 3.0);
        }

        assertThat(commands[0]).isBetween(1000L, 1010L); // one script call per request (and a reload or two)
        assertThat(commands[1]).isLessThan(200L);
        assertThat(admitted[0]).isBetween(270, 330);
        assertThat(admitted[1]).isBetween(255, 330);
    }

    @Test
    void aStoppedRedisAppliesOnStoreFailureWithinTheTimeoutAndARestartedOneLimitsAgain() throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger("portico");
        logs.start();
        log.addAppender(logs);
        RateLimitPolicyConfig allow = RateLimitPolicyConfig.builder("20/s").name("open").store(Store.REDIS).build();
        RateLimitPolicyConfig deny = RateLimitPolicyConfig.builder("20/s").name("closed").store(Store.REDIS)
                .onStoreFailure(OnStoreFailure.DENY).build();
        ProxyServer p = proxy(Duration.ofMillis(100), allow, deny);
        URI open = uri(p, "/open");
        URI closed = uri(p, "/closed");
        Load background = Load.start(List.of(open, closed), 80);
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> background.count(429) > 0);

            redis.stop();
            long started = System.nanoTime();
            int openStatus = get(open);
            long openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            started = System.nanoTime();
            int closedStatus = get(closed);
            long closedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(openStatus).isEqualTo(200);
            assertThat(closedStatus).isEqualTo(503);
            // Within redis.timeout (100 ms), with room for a loaded machine's scheduling.
            assertThat(openMillis).isLessThan(600);
            assertThat(closedMillis).isLessThan(600);
            int before = background.size();
            await().atMost(Duration.ofSeconds(5)).until(() -> background.size() > before + 80);
            assertThat(background.since(before)).allMatch(s -> s == 200 || s == 503);

            String metrics = scrape(p);
            assertThat(value(metrics, "portico_rate_limit_store_failures_total\\{policy=\"open\"}")).isPositive();
            assertThat(value(metrics, "portico_policy_decisions_total\\{outcome=\"error\",policy=\"rate_limit\"}"))
                    .isPositive();
            assertThat(logs.list.stream().filter(e -> e.getFormattedMessage().startsWith("rate_limit open: the "
                    + "Redis store failed"))).hasSize(1); // at most once per 10 s

            redis.restart();
            int restarted = background.size();
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                assertThat(background.since(restarted)).contains(429);
                assertThat(get(closed)).isNotEqualTo(503);
            });
            assertThat(background.statuses()).allMatch(s -> s == 200 || s == 429 || s == 503);
        } finally {
            background.stop();
            log.detachAppender(logs);
        }
    }

    /**
     * Sends traffic through both instances on a route of its own first, so that the measured run starts with
     * connections made and code compiled: the bucket's clock starts at its first request, and a first request held
     * up by a cold start would shorten the measured span.
     */
    private static void warmUp(ProxyServer a, ProxyServer b) throws Exception {
        Load.run(List.of(uri(a, "/warm"), uri(b, "/warm")), 200, Duration.ofSeconds(1));
    }

    @Test
    void aRedisSlowerThanTheTimeoutIsAStoreFailure() throws Exception {
        RateLimitPolicyConfig deny = RateLimitPolicyConfig.builder("20/s").name("slow").store(Store.REDIS)
                .onStoreFailure(OnStoreFailure.DENY).build();
        ProxyServer p = proxy(Duration.ofMillis(100), deny);
        URI slow = uri(p, "/slow");
        assertThat(get(slow)).isEqualTo(200);

        int status;
        long millis;
        // Redis holds every client's commands for 2 s; its +OK says the pause is in effect (a DEBUG SLEEP sent
        // without waiting could still be queued behind the policy's script, which then ran in time).
        try (java.net.Socket pausing = redis.sendOnly("CLIENT", "PAUSE", "2000", "ALL")) {
            assertThat(pausing.getInputStream().read()).isEqualTo('+');
            long started = System.nanoTime();
            status = get(slow);
            millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        }

        assertThat(status).isEqualTo(503);
        assertThat(millis).isBetween(90L, 600L); // the 100 ms timeout, not the 2 s Redis took
        // Answered again once Redis is (its first moments awake go to the commands that queued up).
        await().atMost(Duration.ofSeconds(10)).until(() -> get(slow) == 200);
    }

    @Test
    void aPasswordInTheUrlAuthenticatesAndAWrongOneIsAStoreFailure() throws Exception {
        try (RedisServer locked = RedisServer.start("--requirepass", "s3cret")) {
            RateLimitPolicyConfig limit = RateLimitPolicyConfig.builder("1/m").name("locked").store(Store.REDIS)
                    .onStoreFailure(OnStoreFailure.DENY).build();
            ProxyServer right = started(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .redis(locked.url().replace("//", "//:s3cret@"), r -> r.timeout(Duration.ofSeconds(1)))
                    .route("/locked", r -> r.upstream(backend.url()).policies(limit)).build());
            ProxyServer wrong = started(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .redis(locked.url(), r -> r.password("guess").timeout(Duration.ofSeconds(1)))
                    .route("/locked", r -> r.upstream(backend.url()).policies(limit)).build());

            assertThat(get(uri(right, "/locked"))).isEqualTo(200);
            assertThat(get(uri(right, "/locked"))).isEqualTo(429); // the bucket lives in the locked Redis
            assertThat(get(uri(wrong, "/locked"))).isEqualTo(503);
        }
    }

    private ProxyServer started(ProxyConfig config) {
        ProxyServer p = new ProxyServer(config).start();
        proxies.add(p);
        return p;
    }

    private static URI uri(ProxyServer p, String path) {
        return URI.create("http://127.0.0.1:" + p.port() + path);
    }

    private static int get(URI uri) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static String scrape(ProxyServer p) throws Exception {
        URI admin = URI.create("http://127.0.0.1:" + p.adminAddress().getPort() + "/metrics");
        return CLIENT.send(HttpRequest.newBuilder(admin).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** Requests sent at a steady rate, round robin over targets, each status recorded as it arrives. */
    private static final class Load {
        private final List<URI> targets;
        private final ConcurrentLinkedQueue<int[]> done = new ConcurrentLinkedQueue<>();
        private final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        private final java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();

        private Load(List<URI> targets) {
            this.targets = targets;
        }

        /** Sends {@code perSecond} requests a second until stopped. */
        static Load start(List<URI> targets, int perSecond) {
            Load l = new Load(targets);
            l.timer.scheduleAtFixedRate(() -> l.send(Integer.MAX_VALUE), 0, 1_000_000_000L / perSecond,
                    TimeUnit.NANOSECONDS);
            return l;
        }

        /** Sends {@code perSecond} requests a second for {@code length}, and waits for every answer. */
        static Load run(List<URI> targets, int perSecond, Duration length) throws Exception {
            Load l = new Load(targets);
            int total = (int) (perSecond * length.toMillis() / 1000);
            l.timer.scheduleAtFixedRate(() -> l.send(total), 0, 1_000_000_000L / perSecond, TimeUnit.NANOSECONDS);
            await().atMost(length.plusSeconds(30)).until(() -> l.done.size() == total);
            l.stop();
            return l;
        }

        private void send(int total) {
            int n = sent.getAndIncrement();
            if (n >= total) {
                return;
            }
            int target = n % targets.size();
            CLIENT.sendAsync(HttpRequest.newBuilder(targets.get(target)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) ->
                    done.add(new int[] {target, e != null ? -1 : r.statusCode()}));
        }

        void stop() throws InterruptedException {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
        }

        int size() {
            return done.size();
        }

        int count(int status) {
            return (int) done.stream().filter(d -> d[1] == status).count();
        }

        int perTarget(int target, int status) {
            return (int) done.stream().filter(d -> d[0] == target && d[1] == status).count();
        }

        List<Integer> statuses() {
            return done.stream().map(d -> d[1]).toList();
        }

        List<Integer> since(int index) {
            List<Integer> all = statuses();
            return all.subList(Math.min(index, all.size()), all.size());
        }
    }
}
