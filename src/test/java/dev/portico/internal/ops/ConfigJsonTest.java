package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.TestCertificates;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ConfigJsonTest {
    @TempDir
    Path dir;

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

        assertThat(json).startsWith("{\"listen\":[{\"address\":\"127.0.0.1:8080\",\"h2c\":false,\"tls\":null,"
                + "\"redirect_https\":false}],\"routes\":[{\"path\":\"/api\",\"host\":\"\",\"upstream\":{\"name\":\"\","
                + "\"servers\":[{\"url\":\"http://h:81/x\",\"weight\":1}],")
                .contains("\"connect\":\"2s\"", "\"idle\":\"1m\"", "\"drain_delay\":\"250ms\"",
                        "\"access_log\":{\"enabled\":true,\"format\":\"combined\",\"path\":\"stdout\"}",
                        "\"admin_listen\":null");
    }

    @Test
    @Timeout(30)
    void getConfigShowsUpstreamDefinitionsListenerTlsAndH2cAndTheInheritedBodyLimit() throws Exception {
        TestCertificates.server(TestCertificates.ca("CA"), "a.test").write(dir, "a");
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, """
                listen:
                  - {address: "127.0.0.1:0", h2c: true}
                  - {address: "127.0.0.1:0", tls: {certificate: a.pem, key: a.key}}
                workers: 1
                admin: {listen: "127.0.0.1:0"}
                limits: {max_request_body: 5MiB}
                upstreams:
                  api:
                    servers: [http://127.0.0.1:9, {url: "http://127.0.0.2:9", weight: 3}]
                    health_check: {path: /healthz, interval: 1m}
                    retry: {attempts: 2}
                routes:
                  - {path: /api, upstream: api}
                  - path: /s
                    upstream: https://127.0.0.1:9
                    upstream_tls: {insecure_skip_verify: true}
                    max_request_body: 1KiB
                """);
        try (ProxyServer proxy = new ProxyServer(ProxyConfig.load(file), file).start()) {
            HttpResponse<String> r = new Admin(proxy.adminAddress()).get("/config");

            assertThat(r.statusCode()).isEqualTo(200);
            String json = r.body().replace(dir.toString(), "DIR");
            assertThat(json).contains(
                    "{\"address\":\"127.0.0.1:0\",\"h2c\":true,\"tls\":null,\"redirect_https\":false}",
                    "{\"address\":\"127.0.0.1:0\",\"h2c\":false,\"tls\":{\"certificates\":[{\"certificate\":"
                            + "\"DIR/a.pem\",\"key\":\"DIR/a.key\"}]",
                    "\"name\":\"api\",\"servers\":[{\"url\":\"http://127.0.0.1:9\",\"weight\":1},"
                            + "{\"url\":\"http://127.0.0.2:9\",\"weight\":3}]",
                    "\"health_check\":{\"path\":\"/healthz\",\"interval\":\"1m\"", "\"attempts\":2",
                    "\"insecure_skip_verify\":true", "\"max_request_body\":5242880", "\"max_request_body\":1024")
                    .doesNotContain("\"max_request_body\":-1");
        }
    }
}
