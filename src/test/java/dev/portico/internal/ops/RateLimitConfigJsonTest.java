package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import org.junit.jupiter.api.Test;

/** {@code GET /config} shows the redis: section without its password, and rate_limit policies with their keys. */
class RateLimitConfigJsonTest {
    @Test
    void theRedisPasswordIsRedactedAndTheRateLimitShown() {
        String json = ConfigJson.of(ProxyConfig.parse("""
                listen: 127.0.0.1:8080
                redis: {url: "redis://app:hunter2@cache:6379/1", timeout: 20ms}
                routes:
                  - path: /
                    upstream: http://127.0.0.1:8000
                    policies: [{rate_limit: {rate: 5/m, store: redis, headers: legacy}}]
                """, "r.yaml"));

        assertThat(json).doesNotContain("hunter2")
                .contains("\"redis\":{\"url\":\"redis://cache:6379/1\",\"username\":\"app\","
                        + "\"password\":\"<redacted>\",\"timeout\":\"20ms\"}")
                .contains("\"store\":\"redis\"", "\"headers\":\"legacy\"", "\"on_store_failure\":\"allow\"");
    }
}
