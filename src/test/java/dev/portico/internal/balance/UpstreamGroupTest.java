package dev.portico.internal.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.portico.config.PassiveConfig;
import dev.portico.config.RetryConfig;
import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamConfig.Balance;
import dev.portico.config.UpstreamUrl;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Endpoint selection, passive ejection, panic mode and the retry budget of {@link UpstreamGroup}, over made-up
 * addresses (nothing connects to them).
 */
class UpstreamGroupTest {

    // ---- helpers shared with the other tests of this package ----

    /** @return server number {@code n}: {@code http://127.0.0.1:(10000+n)} */
    static ServerConfig server(int n, int weight) {
        return new ServerConfig(UpstreamUrl.parse("http://127.0.0.1:" + (10_000 + n)), weight);
    }

    /** @return servers 1..N with the given weights */
    static List<ServerConfig> servers(int... weights) {
        List<ServerConfig> out = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            out.add(server(i + 1, weights[i]));
        }
        return out;
    }

    static UpstreamConfig config(List<ServerConfig> servers, Balance balance, PassiveConfig passive,
                                 RetryConfig retry, Duration slowStart) {
        return new UpstreamConfig("test", servers, balance, balance == Balance.HASH ? "path" : null, null, passive,
                retry, 0, 0, slowStart);
    }

    /** @return a group whose servers have their (IP literal) addresses, as DNS resolution sets them */
    static UpstreamGroup group(UpstreamConfig config) {
        UpstreamGroup g = new UpstreamGroup(config, config.name());
        for (ServerConfig s : config.servers()) {
            g.setAddresses(s, List.of(new InetSocketAddress(s.url().host(), s.url().port())));
        }
        return g;
    }

    static UpstreamGroup group(Balance balance, int... weights) {
        return group(config(servers(weights), balance, PassiveConfig.DEFAULTS, RetryConfig.DEFAULTS, Duration.ZERO));
    }

    private static UpstreamGroup passiveGroup(PassiveConfig passive, int endpoints) {
        return group(config(equalServers(endpoints), Balance.ROUND_ROBIN, passive, RetryConfig.DEFAULTS,
                Duration.ZERO));
    }

    private static List<ServerConfig> equalServers(int n) {
        List<ServerConfig> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(server(i, 1));
        }
        return out;
    }

    /** @return how often each endpoint was picked in {@code n} selections without a hash key */
    private static Map<Endpoint, Integer> pick(UpstreamGroup g, int n) {
        Map<Endpoint, Integer> counts = new IdentityHashMap<>();
        for (Endpoint e : g.endpoints()) {
            counts.put(e, 0);
        }
        for (int i = 0; i < n; i++) {
            counts.merge(g.select(null, null), 1, Integer::sum);
        }
        return counts;
    }

    // ---- weights ----

    @Test
    void roundRobinGivesEachEndpointExactlyItsWeightedShare() {
        UpstreamGroup g = group(Balance.ROUND_ROBIN, 1, 2, 3, 4);
        List<Endpoint> eps = g.endpoints();

        Map<Endpoint, Integer> counts = pick(g, 10_000);

        assertThat(counts.get(eps.get(0))).isEqualTo(1_000);
        assertThat(counts.get(eps.get(1))).isEqualTo(2_000);
        assertThat(counts.get(eps.get(2))).isEqualTo(3_000);
        assertThat(counts.get(eps.get(3))).isEqualTo(4_000);
    }

    @Test
    void roundRobinIsSmoothWithinEveryCycle() {
        UpstreamGroup g = group(Balance.ROUND_ROBIN, 5, 1, 1);
        Endpoint heavy = g.endpoints().get(0);
        for (int cycle = 0; cycle < 100; cycle++) {
            List<Endpoint> seq = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                seq.add(g.select(null, null));
            }
            assertThat(seq.stream().filter(e -> e == heavy).count()).isEqualTo(5);
            assertThat(seq).containsAll(g.endpoints());
            // Smooth: the light endpoints are spread out, not sent back to back after five heavy picks.
            int run = 0;
            int maxRun = 0;
            for (Endpoint e : seq) {
                run = e == heavy ? run + 1 : 0;
                maxRun = Math.max(maxRun, run);
            }
            assertThat(maxRun).as("longest run of the heavy endpoint in one cycle").isLessThanOrEqualTo(3);
        }
    }

    @Test
    void randomFollowsTheWeightsWithinFivePercent() {
        UpstreamGroup g = group(Balance.RANDOM, 1, 2, 3);
        List<Endpoint> eps = g.endpoints();
        int n = 60_000;

        Map<Endpoint, Integer> counts = pick(g, n);

        for (int i = 0; i < 3; i++) {
            double expected = n * (i + 1) / 6.0;
            assertThat((double) counts.get(eps.get(i))).as("endpoint of weight " + (i + 1))
                    .isCloseTo(expected, within(expected * 0.05));
        }
    }

    @Test
    void leastRequestSpreadsEvenlyOverIdleEndpointsOfEqualWeight() {
        UpstreamGroup g = group(Balance.LEAST_REQUEST, 1, 1, 1);
        int n = 30_000;

        Map<Endpoint, Integer> counts = pick(g, n);

        for (Endpoint e : g.endpoints()) {
            assertThat((double) counts.get(e)).isCloseTo(n / 3.0, within(n / 3.0 * 0.05));
        }
    }

    @Test
    void leastRequestNeverPicksTheBusiestEndpoint() {
        UpstreamGroup g = group(Balance.LEAST_REQUEST, 1, 1, 1);
        Endpoint busy = g.endpoints().get(1);
        for (int i = 0; i < 3; i++) {
            busy.tryStarted();
        }
        int n = 10_000;

        Map<Endpoint, Integer> counts = pick(g, n);

        assertThat(counts.get(busy)).isZero();
        assertThat((double) counts.get(g.endpoints().get(0))).isCloseTo(n / 2.0, within(n * 0.05));
    }

    @Test
    void leastRequestComparesRequestsInFlightPerUnitOfWeight() {
        UpstreamGroup g = group(Balance.LEAST_REQUEST, 4, 1);
        Endpoint big = g.endpoints().get(0);
        Endpoint small = g.endpoints().get(1);
        big.tryStarted();
        small.tryStarted(); // one each: the endpoint of weight 4 is a quarter as busy

        assertThat(pick(g, 1_000).get(big)).isEqualTo(1_000);

        for (int i = 0; i < 8; i++) {
            big.tryStarted(); // nine on weight 4 against one on weight 1: the big one is busier now
        }
        assertThat(pick(g, 1_000).get(small)).isEqualTo(1_000);
    }

    @Test
    void leastRequestHonoursWeightsWhenEveryEndpointIsIdle() {
        // A weight is "the server's share of traffic relative to the others": with nothing in flight (light,
        // sequential traffic) a server of weight 1 next to one of weight 3 should still get about a quarter.
        UpstreamGroup g = group(Balance.LEAST_REQUEST, 3, 1);
        int n = 20_000;

        Map<Endpoint, Integer> counts = pick(g, n);

        assertThat((double) counts.get(g.endpoints().get(1))).as("share of the weight-1 endpoint")
                .isCloseTo(n / 4.0, within(n / 4.0 * 0.10));
    }

    // ---- availability, panic mode, tries ----

    @Test
    void aTriedEndpointIsNotPickedAgainWhileAnotherIsLeft() {
        for (Balance b : Balance.values()) {
            UpstreamGroup g = group(b, 1, 1, 1);
            for (int i = 0; i < 200; i++) {
                Endpoint first = g.select("key" + i, null);
                Endpoint second = g.select("key" + i, new Endpoint[] {first, null});
                Endpoint third = g.select("key" + i, new Endpoint[] {first, second, null});
                assertThat(List.of(first, second, third)).as(b.toString()).doesNotHaveDuplicates();
                assertThat(g.select("key" + i, new Endpoint[] {first, second, third}))
                        .as("every endpoint tried: one of them again rather than none").isNotNull();
            }
        }
    }

    @Test
    void anUnhealthyEndpointGetsNoTrafficWhileOthersAreUp() {
        for (Balance b : Balance.values()) {
            UpstreamGroup g = group(b, 1, 1, 1);
            Endpoint down = g.endpoints().get(2);
            down.healthy(false, System.nanoTime());
            for (int i = 0; i < 3_000; i++) {
                assertThat(g.select(b == Balance.HASH ? "/k" + i : null, null)).as(b.toString()).isNotSameAs(down);
            }
        }
    }

    @Test
    void panicModeStillPicksEndpointsWhenAllAreOut() {
        for (Balance b : Balance.values()) {
            UpstreamGroup g = group(b, 1, 1);
            long now = System.nanoTime();
            g.endpoints().get(0).healthy(false, now);
            g.endpoints().get(1).healthy(false, now);

            Map<Endpoint, Integer> counts = new IdentityHashMap<>();
            for (int i = 0; i < 1_000; i++) {
                Endpoint e = g.select(b == Balance.HASH ? "/k" + i : null, null);
                assertThat(e).as(b + ": an endpoint even though none is healthy").isNotNull();
                counts.merge(e, 1, Integer::sum);
            }
            assertThat(counts).as(b + ": panic mode still balances").hasSize(2);
        }
    }

    @Test
    void panicModeAppliesToEjectedEndpointsToo() {
        UpstreamGroup g = passiveGroup(new PassiveConfig(1, Duration.ofSeconds(30), 100, false), 2);
        for (Endpoint e : g.endpoints()) {
            g.onFailure(e);
        }
        assertThat(g.ejections()).isEqualTo(2);
        assertThat(g.endpoints()).noneMatch(e -> e.available(System.nanoTime()));

        assertThat(g.select(null, null)).isNotNull();
        Endpoint first = g.select(null, null);
        assertThat(g.select(null, new Endpoint[] {first})).as("an untried one first, even in panic")
                .isNotSameAs(first);
    }

    // ---- passive ejection ----

    @Test
    void consecutiveFailuresEjectAndASuccessResetsTheStreak() {
        UpstreamGroup g = passiveGroup(new PassiveConfig(3, Duration.ofSeconds(30), 50, false), 2);
        Endpoint e = g.endpoints().get(0);

        g.onFailure(e);
        g.onFailure(e);
        g.onSuccess(e);
        g.onFailure(e);
        g.onFailure(e);
        assertThat(e.available(System.nanoTime())).as("a success broke the streak").isTrue();
        assertThat(g.ejections()).isZero();

        g.onFailure(e);
        assertThat(e.ejected(System.nanoTime())).isTrue();
        assertThat(g.ejections()).isEqualTo(1);
        for (int i = 0; i < 1_000; i++) {
            assertThat(g.select(null, null)).isNotSameAs(e);
        }
    }

    @Test
    void anEjectedEndpointComesBackAfterEjectFor() {
        UpstreamGroup g = passiveGroup(new PassiveConfig(1, Duration.ofMillis(100), 50, false), 2);
        Endpoint e = g.endpoints().get(0);
        g.onFailure(e);
        assertThat(e.ejected(System.nanoTime())).isTrue();

        Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> e.available(System.nanoTime()));
        Map<Endpoint, Integer> counts = pick(g, 100);
        assertThat(counts.get(e)).isEqualTo(50);
    }

    @Test
    void ejectionTimeDoublesUpToTenTimes() {
        PassiveConfig p = new PassiveConfig(5, Duration.ofSeconds(1), 50, false);

        assertThat(p.ejectionTime(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.ejectionTime(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.ejectionTime(3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(p.ejectionTime(4)).isEqualTo(Duration.ofSeconds(8));
        assertThat(p.ejectionTime(5)).isEqualTo(Duration.ofSeconds(10));
        assertThat(p.ejectionTime(50)).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void maxEjectedPercentCapsTheEjectedShare() {
        UpstreamGroup g = passiveGroup(new PassiveConfig(1, Duration.ofSeconds(30), 50, false), 4);
        for (int round = 0; round < 3; round++) {
            for (Endpoint e : g.endpoints()) {
                g.onFailure(e);
            }
        }
        long now = System.nanoTime();
        assertThat(g.endpoints().stream().filter(e -> e.ejected(now)).count()).isEqualTo(2);
        assertThat(g.ejections()).isEqualTo(2);
    }

    @Test
    void maxEjectedPercentAlwaysAllowsOne() {
        UpstreamGroup g = passiveGroup(new PassiveConfig(1, Duration.ofSeconds(30), 10, false), 3);
        for (Endpoint e : g.endpoints()) {
            g.onFailure(e);
        }
        long now = System.nanoTime();
        assertThat(g.endpoints().stream().filter(e -> e.ejected(now)).count()).isEqualTo(1);
    }

    @Test
    void consecutiveFailuresZeroTurnsPassiveEjectionOff() {
        UpstreamGroup g = passiveGroup(new PassiveConfig(0, Duration.ofSeconds(30), 100, false), 2);
        Endpoint e = g.endpoints().get(0);
        for (int i = 0; i < 100; i++) {
            g.onFailure(e);
        }
        assertThat(e.available(System.nanoTime())).isTrue();
        assertThat(g.ejections()).isZero();
    }

    // ---- retry budget ----

    @Test
    void theBudgetAlwaysAllowsAFewRetries() {
        UpstreamGroup g = group(Balance.ROUND_ROBIN, 1);
        g.requestStarted();

        assertThat(g.tryStartRetry()).isTrue();
        assertThat(g.tryStartRetry()).isTrue();
        assertThat(g.tryStartRetry()).isTrue();
        assertThat(g.tryStartRetry()).isFalse();
        assertThat(g.retriesRefusedByBudget()).isEqualTo(1);
        assertThat(g.retries()).isEqualTo(3);

        g.retryEnded();
        assertThat(g.tryStartRetry()).as("an ended retry frees its place").isTrue();
        assertThat(g.tryStartRetry()).isFalse();
        assertThat(g.retriesRefusedByBudget()).isEqualTo(2);
    }

    @Test
    void theBudgetIsAShareOfTheRequestsInFlight() {
        UpstreamGroup g = group(Balance.ROUND_ROBIN, 1);
        for (int i = 0; i < 100; i++) {
            g.requestStarted();
        }
        int allowed = 0;
        for (int i = 0; i < 100; i++) {
            if (g.tryStartRetry()) {
                allowed++;
            }
        }
        assertThat(allowed).isEqualTo(20);
        assertThat(g.retriesRefusedByBudget()).isEqualTo(80);

        for (int i = 0; i < 50; i++) {
            g.requestEnded();
        }
        for (int i = 0; i < 20; i++) {
            g.retryEnded();
        }
        int allowedNow = 0;
        for (int i = 0; i < 100; i++) {
            if (g.tryStartRetry()) {
                allowedNow++;
            }
        }
        assertThat(allowedNow).isEqualTo(10);
    }

    // ---- endpoints and addresses ----

    @Test
    void newAddressesKeepTheStateOfThoseThatStay() {
        UpstreamConfig c = config(servers(1, 1), Balance.ROUND_ROBIN,
                new PassiveConfig(1, Duration.ofSeconds(30), 100, false), RetryConfig.DEFAULTS, Duration.ZERO);
        UpstreamGroup g = group(c);
        ServerConfig first = c.servers().get(0);
        Endpoint kept = g.endpoints().get(0);
        g.onFailure(kept);

        g.setAddresses(first, List.of(new InetSocketAddress("127.0.0.1", 10_001),
                new InetSocketAddress("127.0.0.2", 10_001)));

        List<Endpoint> eps = g.endpoints();
        assertThat(eps).hasSize(3);
        assertThat(eps.get(0)).isSameAs(kept);
        assertThat(eps.get(0).ejected(System.nanoTime())).isTrue();
        assertThat(eps.get(1).text()).isEqualTo("127.0.0.2:10001");
        assertThat(eps.get(2).server()).as("config order, whatever the resolution order").isSameAs(
                c.servers().get(1));

        g.setAddresses(first, List.of());
        assertThat(g.endpoints()).hasSize(1);
    }

    @Test
    void anUpstreamWithoutAddressesSelectsNothing() {
        UpstreamGroup g = new UpstreamGroup(config(servers(1), Balance.ROUND_ROBIN, PassiveConfig.DEFAULTS,
                RetryConfig.DEFAULTS, Duration.ZERO), "empty");
        assertThat(g.select(null, null)).isNull();
    }
}
