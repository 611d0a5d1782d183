package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProxyConfigTest {

    @Test
    void builderProducesTheSameConfigAsTheYamlLoader() {
        ProxyConfig built = ProxyConfig.builder()
                .listen("127.0.0.1:8080")
                .listen("::1", 8443)
                .route("/api/", "http://127.0.0.1:8000")
                .route(new RouteConfig("/static", "WWW.Example.com", UpstreamUrl.parse("http://127.0.0.1:8001/assets/"),
                        true, ConfigValues.parseSize("1GiB")))
                .timeouts(new TimeoutsConfig(Duration.ofMillis(250), Duration.ofMinutes(2), Duration.ofSeconds(90),
                        Duration.ofSeconds(5), Duration.ofHours(1)))
                .limits(new LimitsConfig(4096, 32768, 10L << 20))
                .workers(4)
                .accessLog(new AccessLogConfig(false))
                .build();

        assertThat(built).isEqualTo(YamlConfigLoader.parse(YamlConfigLoaderTest.FULL, "full.yaml"));
    }

    @Test
    void builderRouteMapMatchesTheShortForm() {
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("/web", "http://localhost:8001");
        routes.put("/api", "http://localhost:8000/v1");

        ProxyConfig built = ProxyConfig.builder().listen("0.0.0.0", 80).routes(routes).build();

        assertThat(built).isEqualTo(YamlConfigLoader.parse(
                "listen: 0.0.0.0:80\nroutes: {/web: 'http://localhost:8001', /api: 'http://localhost:8000/v1'}\n",
                "short.yaml"));
    }

    @Test
    void builderReportsEveryCrossRecordProblem() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ProxyConfig.builder()
                .route("/a", "http://h:1").route("/a/", "http://h:2").workers(2000).build());

        assertThat(e.problems()).containsExactly(
                "listen: at least one address is required",
                "routes[1]: path /a is routed twice",
                "workers: must be between 0 (one per core) and 1024, got 2000");
    }

    @Test
    void allowsTheSamePathForDifferentHosts() {
        ProxyConfig config = ProxyConfig.builder().listen("127.0.0.1:0")
                .route(new RouteConfig("/", "a.example", UpstreamUrl.parse("http://h:1"), false, RouteConfig.INHERIT))
                .route(new RouteConfig("/", "b.example", UpstreamUrl.parse("http://h:2"), false, RouteConfig.INHERIT))
                .build();

        assertThat(config.routes()).hasSize(2);
    }

    @Test
    void builderRejectsABadValueAtOnce() {
        assertThatIllegalArgumentException().isThrownBy(() -> ProxyConfig.builder().route("/", "ftp://h"))
                .withMessageContaining("unsupported upstream scheme");
    }

    @Test
    void copiesListsSoTheConfigCannotChange() {
        ProxyConfig config = ProxyConfig.builder().listen("127.0.0.1:0").route("/", "http://h").build();

        assertThat(config.routes()).isUnmodifiable();
        assertThat(config.listen()).isUnmodifiable();
    }

    @Test
    void rejectsTimeoutsThatAreNotPositive() {
        assertThatIllegalArgumentException().isThrownBy(() -> new TimeoutsConfig(Duration.ZERO,
                        TimeoutsConfig.DEFAULT_RESPONSE, TimeoutsConfig.DEFAULT_IDLE,
                        TimeoutsConfig.DEFAULT_REQUEST_HEADER, TimeoutsConfig.DEFAULT_DRAIN))
                .withMessage("connect must be positive, got 0ms");
    }

    @Test
    void formatsEveryProblemWithTheSource() {
        ConfigException e = new ConfigException("a.yaml", List.of("x: bad", "y: worse"));

        assertThat(e.getMessage()).isEqualTo("a.yaml: 2 problems" + System.lineSeparator() + "  a.yaml: x: bad"
                + System.lineSeparator() + "  a.yaml: y: worse");
    }
}
