package dev.portico.internal.balance;

import static dev.portico.internal.balance.UpstreamGroupTest.config;
import static dev.portico.internal.balance.UpstreamGroupTest.group;
import static dev.portico.internal.balance.UpstreamGroupTest.servers;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.PassiveConfig;
import dev.portico.config.RetryConfig;
import dev.portico.config.UpstreamConfig.Balance;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** {@code slow_start}: an endpoint back in service gets a small share first. */
class SlowStartTest {
    private static int picks(UpstreamGroup g, Endpoint e, int n) {
        Map<Endpoint, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(g.select(null, null), 1, Integer::sum);
        }
        return counts.getOrDefault(e, 0);
    }

    @Test
    void slowStartRampsARecoveredEndpointUp() {
        UpstreamGroup g = group(config(servers(1, 1), Balance.ROUND_ROBIN, PassiveConfig.DEFAULTS,
                RetryConfig.DEFAULTS, Duration.ofSeconds(60)));
        Endpoint recovered = g.endpoints().get(0);
        long now = System.nanoTime();
        recovered.healthy(false, now);
        recovered.healthy(true, now);
        int n = 11_000;

        // A tenth of its weight at first: about 1 in 11 picks, far from half.
        assertThat(picks(g, recovered, n)).isBetween(n / 20, n / 6);
    }

    @Test
    void slowStartRampsAnEndpointBackFromEjectionUp() {
        UpstreamGroup g = group(config(servers(1, 1), Balance.ROUND_ROBIN,
                new PassiveConfig(1, Duration.ofMillis(500), 100, false), RetryConfig.DEFAULTS, Duration.ofSeconds(60)));
        Endpoint back = g.endpoints().get(0);
        g.onFailure(back);
        assertThat(picks(g, back, 1_000)).isZero();

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> back.available(System.nanoTime()));

        assertThat(picks(g, back, 11_000)).isBetween(11_000 / 20, 11_000 / 6);
    }

    @Test
    void withoutSlowStartARecoveredEndpointGetsItsFullShareAtOnce() {
        UpstreamGroup g = group(Balance.ROUND_ROBIN, 1, 1);
        Endpoint recovered = g.endpoints().get(0);
        long now = System.nanoTime();
        recovered.healthy(false, now);
        recovered.healthy(true, now);

        assertThat(picks(g, recovered, 1_000)).isEqualTo(500);
    }
}
