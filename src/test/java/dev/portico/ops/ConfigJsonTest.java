package dev.portico.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigJsonTest {
    record Tls(String certFile, String keyPassword, String clientToken, Duration handshakeTimeout) {
    }

    record Root(String name, List<Tls> tls, Map<String, Integer> weights, boolean on) {
    }

    @Test
    void writesRecordsUnderSnakeCaseKeysAndRedactsSecrets() {
        String json = ConfigJson.of(new Root("a \"q\"", List.of(new Tls("/etc/c.pem", "hunter2", "t0k", Duration
                .ofMillis(1500))), Map.of("x", 2), true));

        Map<String, Object> root = FlatJson.parse(json.replaceAll("\"tls\":\\[.*?]", "\"tls\":null")
                .replaceAll("\"weights\":\\{[^}]*}", "\"weights\":null"));
        assertThat(root.get("name")).isEqualTo("a \"q\"");
        assertThat(root.get("on")).isEqualTo(true);
        assertThat(json).contains("\"tls\":[{\"cert_file\":\"/etc/c.pem\",\"key_password\":\"<redacted>\","
                + "\"client_token\":\"<redacted>\",\"handshake_timeout\":\"1500ms\"}]", "\"weights\":{\"x\":2}")
                .doesNotContain("hunter2", "t0k");
    }

    @Test
    void writesTheWholeProxyConfigurationWithDurationsAsText() {
        String json = ConfigJson.of(ProxyConfig.parse("listen: 127.0.0.1:8080\nroutes: {/api: \"http://h:81/x\"}\n"
                + "timeouts: {connect: 2s, idle: 1m, drain_delay: 250ms}\n", "t.yaml"));

        assertThat(json).startsWith("{\"listen\":[\"127.0.0.1:8080\"],\"routes\":[{\"path\":\"/api\",\"host\":\"\","
                + "\"upstream\":\"http://h:81/x\",\"strip_prefix\":false,")
                .contains("\"connect\":\"2s\"", "\"idle\":\"1m\"", "\"drain_delay\":\"250ms\"",
                        "\"access_log\":{\"enabled\":true,\"format\":\"combined\",\"path\":\"stdout\"}",
                        "\"admin_listen\":null");
    }
}
