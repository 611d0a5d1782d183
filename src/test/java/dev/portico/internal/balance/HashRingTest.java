package dev.portico.internal.balance;

import static dev.portico.internal.balance.UpstreamGroupTest.group;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.UpstreamConfig.Balance;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Consistent hashing: affinity, even spread, and how few keys move when the servers change. */
class HashRingTest {
    private static final int KEYS = 10_000;

    private static String key(int i) {
        return "user-" + i;
    }

    /** @return the endpoint ({@code ip:port}) each key maps to */
    private static Map<String, String> owners(UpstreamGroup g) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            out.put(key(i), g.select(key(i), null).text());
        }
        return out;
    }

    @Test
    void theSameKeyAlwaysGoesToTheSameEndpoint() {
        UpstreamGroup g = group(Balance.HASH, 1, 1, 1, 1);
        Map<String, String> first = owners(g);

        assertThat(owners(g)).isEqualTo(first);
        assertThat(owners(group(Balance.HASH, 1, 1, 1, 1))).as("another group (a restart) maps keys the same way")
                .isEqualTo(first);
    }

    @Test
    void keysSpreadEvenlyOverEndpointsOfEqualWeight() {
        Map<String, Integer> perEndpoint = new HashMap<>();
        owners(group(Balance.HASH, 1, 1, 1, 1)).values().forEach(e -> perEndpoint.merge(e, 1, Integer::sum));

        assertThat(perEndpoint).hasSize(4);
        assertThat(perEndpoint.values()).allSatisfy(n -> assertThat(n).isBetween(KEYS * 15 / 100, KEYS * 35 / 100));
    }

    @Test
    void keysFollowTheWeights() {
        UpstreamGroup g = group(Balance.HASH, 3, 1);
        String heavy = g.endpoints().get(0).text();

        long onHeavy = owners(g).values().stream().filter(heavy::equals).count();

        assertThat(onHeavy).isBetween((long) (KEYS * 0.65), (long) (KEYS * 0.85));
    }

    @Test
    void addingAServerMovesAboutOneNthOfTheKeysAndOnlyToIt() {
        Map<String, String> before = owners(group(Balance.HASH, 1, 1, 1, 1));
        UpstreamGroup five = group(Balance.HASH, 1, 1, 1, 1, 1);
        String added = five.endpoints().get(4).text();
        Map<String, String> after = owners(five);

        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            String k = key(i);
            if (!before.get(k).equals(after.get(k))) {
                moved++;
                assertThat(after.get(k)).as("a moved key goes to the new server").isEqualTo(added);
            }
        }
        assertThat(moved / (double) KEYS).as("share of keys moved").isBetween(0.1, 0.3);
    }

    @Test
    void removingAServerMovesOnlyItsKeys() {
        Map<String, String> before = owners(group(Balance.HASH, 1, 1, 1, 1, 1));
        UpstreamGroup four = group(Balance.HASH, 1, 1, 1, 1);
        Map<String, String> after = owners(four);
        String removed = "127.0.0.1:10005";

        for (int i = 0; i < KEYS; i++) {
            String k = key(i);
            if (!before.get(k).equals(removed)) {
                assertThat(after.get(k)).isEqualTo(before.get(k));
            }
        }
    }

    @Test
    void anUnavailableEndpointsKeysGoElsewhereAndTheRestStay() {
        UpstreamGroup g = group(Balance.HASH, 1, 1, 1, 1);
        Map<String, String> before = owners(g);
        Endpoint down = g.endpoints().get(1);
        down.healthy(false, System.nanoTime());

        Map<String, String> after = owners(g);

        for (int i = 0; i < KEYS; i++) {
            String k = key(i);
            if (before.get(k).equals(down.text())) {
                assertThat(after.get(k)).isNotEqualTo(down.text());
            } else {
                assertThat(after.get(k)).isEqualTo(before.get(k));
            }
        }
        down.healthy(true, System.nanoTime());
        assertThat(owners(g)).as("back: every key returns to its endpoint").isEqualTo(before);
    }

    @Test
    void aRetryOfAKeyGoesToAnotherEndpoint() {
        UpstreamGroup g = group(Balance.HASH, 1, 1, 1);
        for (int i = 0; i < 500; i++) {
            Endpoint first = g.select(key(i), null);
            Endpoint retry = g.select(key(i), new Endpoint[] {first, null});
            assertThat(retry).isNotSameAs(first);
            assertThat(g.select(key(i), new Endpoint[] {first, null})).as("deterministic").isSameAs(retry);
        }
    }

    @Test
    void withoutAKeyRequestsAreSpreadRoundRobin() {
        UpstreamGroup g = group(Balance.HASH, 1, 1);
        List<Endpoint> eps = g.endpoints();
        int first = 0;
        for (int i = 0; i < 1_000; i++) {
            if (g.select(null, null) == eps.get(0)) {
                first++;
            }
        }
        assertThat(first).isEqualTo(500);
    }
}
