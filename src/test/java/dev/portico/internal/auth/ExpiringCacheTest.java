package dev.portico.internal.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExpiringCacheTest {
    @Test
    void entriesExpireAndAFloodOfKeysNeverGrowsItPastItsBound() {
        ExpiringCache<Integer, String> cache = new ExpiringCache<>(1000);
        long now = System.nanoTime();
        cache.put(-1, "short", now + 1_000);
        assertThat(cache.get(-1, now)).isEqualTo("short");
        assertThat(cache.get(-1, now + 1_000)).isNull();

        for (int i = 0; i < 1_000_000; i++) {
            cache.put(i, "v", now + 60_000_000_000L);
            assertThat(cache.size()).isLessThanOrEqualTo(1000);
        }
        assertThat(cache.get(999_999, now)).isEqualTo("v");
    }

    @Test
    void credentialDigestsDependOnScopeAndCredentialOnly() {
        assertThat(CredentialDigest.of("a", "alice:pw")).isEqualTo(CredentialDigest.of("a", "alice:pw"))
                .isNotEqualTo(CredentialDigest.of("b", "alice:pw")).isNotEqualTo(CredentialDigest.of("a", "alice:px"));
    }
}
