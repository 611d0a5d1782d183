package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ForwardAuthCacheTest {
    private static final long TTL = 1_000_000_000L;

    private static ForwardAuthCache.Key key(String... parts) {
        ForwardAuthCache.KeyBuilder b = new ForwardAuthCache.KeyBuilder();
        for (String p : parts) {
            b.add(p);
        }
        return b.build();
    }

    @Test
    void keysAreLengthPrefixedSoShiftedBoundariesDiffer() {
        assertThat(key("cookie", "s=1")).isEqualTo(key("cookie", "s=1"));
        assertThat(key("cookie", "s=1")).isNotEqualTo(key("cookies", "=1"));
        assertThat(key("ab", "")).isNotEqualTo(key("a", "b"));
    }

    @Test
    void anEntryLivesForItsTtlOnly() {
        ForwardAuthCache cache = new ForwardAuthCache(TTL);
        List<Map.Entry<String, String>> fields = List.of(Map.entry("X-User", "alice"));
        cache.put(key("a"), fields, 0);
        assertThat(cache.get(key("a"), TTL - 1)).isEqualTo(fields);
        assertThat(cache.get(key("a"), TTL)).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void aMillionDistinctKeysNeverHoldMoreThanTheBound() {
        ForwardAuthCache cache = new ForwardAuthCache(TTL * 3600);
        List<Map.Entry<String, String>> fields = List.of(Map.entry("X-User", "u"));
        int most = 0;
        for (int i = 0; i < 1_000_000; i++) {
            cache.put(key("cookie", "s=" + i), fields, i);
            most = Math.max(most, cache.size());
        }
        assertThat(most).isEqualTo(ForwardAuthCache.MAX_ENTRIES);
        assertThat(cache.get(key("cookie", "s=999999"), 1_000_000)).isEqualTo(fields);
    }

    @Test
    void decisionsWithTooManyFieldsAreNotKept() {
        ForwardAuthCache cache = new ForwardAuthCache(TTL);
        cache.put(key("big"), List.of(Map.entry("X-Groups", "g".repeat(ForwardAuthCache.MAX_ENTRY_CHARS))), 0);
        assertThat(cache.get(key("big"), 1)).isNull();
    }
}
