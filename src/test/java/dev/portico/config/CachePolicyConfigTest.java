package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code cache} policy's YAML keys, defaults and validation. */
class CachePolicyConfigTest {
    private static ProxyConfig parse(String policies) {
        return ProxyConfig.parse("listen: 127.0.0.1:8080\npolicies:\n" + policies
                + "routes:\n  - path: /\n    upstream: http://127.0.0.1:9000\n    policies: [c]\n", "p.yaml");
    }

    private static PolicyConfig only(ProxyConfig c) {
        return c.routes().get(0).policies().get(0);
    }

    @Test
    void anEmptySectionTakesTheDefaults() {
        CachePolicyConfig c = (CachePolicyConfig) only(parse("  c:\n    cache:\n"));
        assertThat(c).isEqualTo(CachePolicyConfig.defaults());
        assertThat(c.maxSize()).isEqualTo(256L << 20);
        assertThat(c.maxObjectSize()).isEqualTo(8L << 20);
        assertThat(c.heuristic()).isTrue();
        assertThat(c.coalesce()).isTrue();
        assertThat(c.staleIfError()).isZero();
        assertThat(c.statusHeader()).isTrue();
        assertThat(c.type()).isEqualTo("cache");
    }

    @Test
    void everyKeyIsReadAndEqualsTheBuilder() {
        PolicyConfig c = only(parse("""
                  c:
                    cache:
                      max_size: 64MiB
                      max_object_size: 1MiB
                      heuristic: false
                      coalesce: false
                      stale_if_error: 30s
                      status_header: false
                """));
        assertThat(c).isEqualTo(CachePolicyConfig.builder().maxSize(64L << 20).maxObjectSize(1L << 20)
                .heuristic(false).coalesce(false).staleIfError(Duration.ofSeconds(30)).statusHeader(false).build());
    }

    @Test
    void badValuesAreNamedWithTheirKeyPath() {
        List<String> problems = catchThrowableOfType(() -> parse("""
                  c:
                    cache:
                      max_size: lots
                      heuristic: maybe
                      colaesce: true
                """), ConfigException.class).problems();
        assertThat(problems).anyMatch(p -> p.startsWith("policies.c.cache.max_size:"))
                .anyMatch(p -> p.startsWith("policies.c.cache.heuristic: expected true or false"))
                .anyMatch(p -> p.startsWith("policies.c.cache.colaesce: unknown key"));
        List<String> tooBig = catchThrowableOfType(() -> parse("""
                  c:
                    cache:
                      max_size: 1MiB
                      max_object_size: 2MiB
                """), ConfigException.class).problems();
        assertThat(tooBig).containsExactly("policies.c.cache.max_object_size: must not exceed max_size (1048576 "
                + "bytes)");
    }

    @Test
    void theBuilderRefusesWhatTheRecordCannotHold() {
        assertThatThrownBy(() -> CachePolicyConfig.builder().maxSize(0).build())
                .hasMessageContaining("max_size must be positive");
        assertThatThrownBy(() -> CachePolicyConfig.builder().staleIfError(Duration.ofSeconds(-1)).build())
                .hasMessageContaining("stale_if_error must not be negative");
    }
}
