package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.RateLimitPolicyConfig.Store;
import org.junit.jupiter.api.Test;

/** The Redis link and the rate limits' state across reloads: kept while unchanged, closed once dropped. */
class RateLimitRegistryTest {
    private static final RateLimitPolicyConfig SHARED = RateLimitPolicyConfig.builder("10/s").name("shared")
            .store(Store.REDIS).build();
    private static final RateLimitPolicyConfig LOCAL = RateLimitPolicyConfig.builder("10/s").name("local").build();

    private static ProxyConfig config(String redisUrl, RateLimitPolicyConfig... policies) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1:0")
                .route("/", r -> r.upstream("http://127.0.0.1:8000").policies(policies));
        if (redisUrl != null) {
            b.redis(redisUrl, r -> r);
        }
        return b.build();
    }

    @Test
    void anUnchangedConfigurationKeepsTheLinkAndTheBuckets() {
        PolicyRegistry first = PolicyRegistry.empty().next(config("redis://127.0.0.1:1", SHARED, LOCAL));
        PolicyRegistry second = first.next(config("redis://127.0.0.1:1", SHARED, LOCAL));
        first.retire(second);

        assertThat(second.redis()).isSameAs(first.redis());
        assertThat(second.instance(SHARED)).isSameAs(first.instance(SHARED));
        assertThat(second.instance(LOCAL)).isSameAs(first.instance(LOCAL));
        assertThat(second.redis().closed()).isFalse();
        second.close();
        assertThat(second.redis().closed()).isTrue();
    }

    @Test
    void aChangedRedisSectionMakesANewLinkAndClosesTheOld() {
        PolicyRegistry first = PolicyRegistry.empty().next(config("redis://127.0.0.1:1", SHARED, LOCAL));
        PolicyRegistry second = first.next(config("redis://127.0.0.1:2", SHARED, LOCAL));
        first.retire(second);

        assertThat(second.redis()).isNotSameAs(first.redis());
        assertThat(first.redis().closed()).isTrue();
        assertThat(second.instance(SHARED)).isNotSameAs(first.instance(SHARED)); // it follows the new link
        assertThat(second.instance(LOCAL)).isSameAs(first.instance(LOCAL));
        second.close();
    }

    @Test
    void noRedisPolicyLeftClosesTheLinkAndARefusedReloadClosesOnlyWhatItMade() {
        PolicyRegistry first = PolicyRegistry.empty().next(config("redis://127.0.0.1:1", SHARED));
        PolicyRegistry refused = first.next(config("redis://127.0.0.1:3", SHARED));
        refused.retire(first); // the reload failed: the running registry stays

        assertThat(refused.redis().closed()).isTrue();
        assertThat(first.redis().closed()).isFalse();

        PolicyRegistry local = first.next(config(null, LOCAL));
        first.retire(local);
        assertThat(local.redis()).isNull();
        assertThat(first.redis().closed()).isTrue();
    }
}
