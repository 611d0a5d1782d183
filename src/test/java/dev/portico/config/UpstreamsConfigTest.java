package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code upstreams:} section and a route's {@code upstream:} value, parsed from YAML. */
class UpstreamsConfigTest {
    private static final String ROUTES_TO_APP = """
            routes:
              - path: /
                upstream: app
            """;

    /** A route that does not name the upstream under test, so only the upstream's own problems are reported. */
    private static final String ROUTE_BY_URL = """
            routes:
              - path: /
                upstream: http://127.0.0.1:9999
            """;

    private static ProxyConfig parse(String yaml) {
        return ProxyConfig.parse("listen: 127.0.0.1:8080\n" + yaml, "test.yaml");
    }

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
        assertThat(e).as("the configuration is rejected").isNotNull();
        return e.problems();
    }

    @Test
    void readsEveryKey() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers:
                      - url: http://10.0.0.1:8001/base
                        weight: 3
                      - http://10.0.0.2:8002/base
                    balance: hash
                    hash_on: header:X-User-Id
                    health_check:
                      path: /healthz
                      interval: 250ms
                      timeout: 100ms
                      healthy_threshold: 4
                      unhealthy_threshold: 5
                      expect_status: 200-299
                    passive:
                      consecutive_failures: 7
                      eject_for: 10s
                      max_ejected_percent: 30
                      on_5xx: true
                    retry:
                      attempts: 3
                      retry_on: [connect_failure, reset, timeout, 503]
                      idempotent_only: false
                      budget_percent: 40
                      per_try_timeout: 2s
                      backoff: 10ms
                      buffer: 1MiB
                    max_connections: 100
                    max_pending: 20
                    slow_start: 30s
                """ + ROUTES_TO_APP);

        UpstreamConfig u = c.routes().get(0).upstream();
        assertThat(u.name()).isEqualTo("app");
        assertThat(u.servers()).extracting(s -> s.url().host(), s -> s.url().port(), ServerConfig::weight)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("10.0.0.1", 8001, 3),
                        org.assertj.core.groups.Tuple.tuple("10.0.0.2", 8002, 1));
        assertThat(u.path()).isEqualTo("/base");
        assertThat(u.balance()).isEqualTo(UpstreamConfig.Balance.HASH);
        assertThat(u.hashOn()).isEqualTo("header:X-User-Id");
        assertThat(u.healthCheck()).isEqualTo(new HealthCheckConfig("/healthz", Duration.ofMillis(250),
                Duration.ofMillis(100), 4, 5, 200, 299));
        assertThat(u.passive()).isEqualTo(new PassiveConfig(7, Duration.ofSeconds(10), 30, true));
        RetryConfig r = u.retry();
        assertThat(r.attempts()).isEqualTo(3);
        assertThat(r.retryOn()).containsExactly("connect_failure", "reset", "timeout", "503");
        assertThat(r.onConnectFailure()).isTrue();
        assertThat(r.onReset()).isTrue();
        assertThat(r.onTimeout()).isTrue();
        assertThat(r.statuses().get(503)).isTrue();
        assertThat(r.statuses().get(502)).isFalse();
        assertThat(r.idempotentOnly()).isFalse();
        assertThat(r.budgetPercent()).isEqualTo(40);
        assertThat(r.perTryTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(r.backoff()).isEqualTo(Duration.ofMillis(10));
        assertThat(r.buffer()).isEqualTo(1024 * 1024);
        assertThat(u.maxConnections()).isEqualTo(100);
        assertThat(u.maxPending()).isEqualTo(20);
        assertThat(u.slowStart()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void appliesTheDefaults() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001, http://127.0.0.1:8002]
                """ + ROUTES_TO_APP);

        UpstreamConfig u = c.routes().get(0).upstream();
        assertThat(u.servers()).extracting(ServerConfig::weight).containsExactly(1, 1);
        assertThat(u.balance()).isEqualTo(UpstreamConfig.Balance.ROUND_ROBIN);
        assertThat(u.hashOn()).isNull();
        assertThat(u.healthCheck()).isNull();
        assertThat(u.passive()).isEqualTo(PassiveConfig.DEFAULTS);
        assertThat(u.passive()).isEqualTo(new PassiveConfig(5, Duration.ofSeconds(30), 50, false));
        assertThat(u.retry()).isEqualTo(RetryConfig.DEFAULTS);
        assertThat(u.retry().attempts()).isEqualTo(1);
        assertThat(u.retry().retryOn()).containsExactly("connect_failure", "reset");
        assertThat(u.retry().idempotentOnly()).isTrue();
        assertThat(u.retry().budgetPercent()).isEqualTo(20);
        assertThat(u.retry().perTryTimeout()).isNull();
        assertThat(u.retry().backoff()).isEqualTo(Duration.ofMillis(25));
        assertThat(u.retry().buffer()).isEqualTo(64 * 1024);
        assertThat(u.maxConnections()).isZero();
        assertThat(u.maxPending()).isZero();
        assertThat(u.slowStart()).isEqualTo(Duration.ZERO);
    }

    @Test
    void appliesTheDefaultsOfEachSubsection() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    health_check:
                      path: /ping
                    passive:
                      consecutive_failures: 2
                    retry:
                      attempts: 2
                """ + ROUTES_TO_APP);

        UpstreamConfig u = c.routes().get(0).upstream();
        assertThat(u.healthCheck()).isEqualTo(new HealthCheckConfig("/ping", Duration.ofSeconds(5),
                Duration.ofSeconds(1), 2, 3, 200, 399));
        assertThat(u.passive()).isEqualTo(new PassiveConfig(2, Duration.ofSeconds(30), 50, false));
        RetryConfig d = RetryConfig.DEFAULTS;
        assertThat(u.retry()).isEqualTo(new RetryConfig(2, d.retryOn(), true, d.budgetPercent(), null, d.backoff(),
                d.buffer()));
    }

    @Test
    void aSingleExpectedStatusIsARangeOfOne() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    health_check: {path: /healthz, expect_status: 204}
                """ + ROUTES_TO_APP);

        HealthCheckConfig h = c.routes().get(0).upstream().healthCheck();
        assertThat(h.expectMin()).isEqualTo(204);
        assertThat(h.expectMax()).isEqualTo(204);
    }

    @Test
    void aRouteUpstreamIsANameAUrlOrAListOfUrls() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001, http://127.0.0.1:8002]
                    balance: least_request
                routes:
                  - path: /a
                    upstream: app
                  - path: /b
                    upstream: app
                  - path: /c
                    upstream: http://127.0.0.1:9000/x
                  - path: /d
                    upstream: [http://127.0.0.1:9001, http://127.0.0.1:9002]
                """);

        List<RouteConfig> routes = c.routes();
        UpstreamConfig named = routes.get(0).upstream();
        assertThat(named.name()).isEqualTo("app");
        assertThat(named.balance()).isEqualTo(UpstreamConfig.Balance.LEAST_REQUEST);
        assertThat(routes.get(1).upstream()).as("routes naming one upstream share it").isSameAs(named);

        UpstreamConfig url = routes.get(2).upstream();
        assertThat(url.name()).isEmpty();
        assertThat(url.servers()).hasSize(1);
        assertThat(url.servers().get(0).url().port()).isEqualTo(9000);
        assertThat(url.path()).isEqualTo("/x");
        assertThat(url.balance()).isEqualTo(UpstreamConfig.Balance.ROUND_ROBIN);
        assertThat(url.retry()).isEqualTo(RetryConfig.DEFAULTS);

        UpstreamConfig list = routes.get(3).upstream();
        assertThat(list.name()).isEmpty();
        assertThat(list.servers()).extracting(s -> s.url().port()).containsExactly(9001, 9002);
        assertThat(list.servers()).extracting(ServerConfig::weight).containsExactly(1, 1);
    }

    @Test
    void theShortRouteFormTakesANameToo() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                routes:
                  /api: app
                  /web: http://127.0.0.1:9000
                """);

        assertThat(c.routes().get(0).upstream().name()).isEqualTo("app");
        assertThat(c.routes().get(1).upstream().name()).isEmpty();
    }

    @Test
    void unknownKeysAreNamedWithTheirPath() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers:
                      - url: http://127.0.0.1:8001
                        wieght: 2
                    balanse: random
                    health_check: {path: /h, intervall: 1s}
                    passive: {on5xx: true}
                    retry: {attempt: 2}
                """ + ROUTE_BY_URL);

        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.servers[0].wieght: unknown key"));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.balanse: unknown key"));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.health_check.intervall: unknown key"));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.passive.on5xx: unknown key"));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.retry.attempt: unknown key"));
    }

    @Test
    void anUnknownUpstreamNameIsNamedWithTheRoute() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                routes:
                  - path: /
                    upstream: ap
                """);

        assertThat(p).singleElement().asString()
                .startsWith("routes[0].upstream: no upstream named \"ap\"").contains("app");
    }

    @Test
    void aNameWithoutAnyUpstreamsSectionIsAnError() {
        List<String> p = problems("""
                routes:
                  - path: /
                    upstream: app
                """);

        assertThat(p).singleElement().asString().startsWith("routes[0].upstream: no upstream named \"app\"");
    }

    @Test
    void aBadBalanceIsNamed() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    balance: fastest
                """ + ROUTE_BY_URL);

        assertThat(p).singleElement().asString().startsWith("upstreams.app.balance: ").contains("fastest")
                .contains("round_robin");
    }

    @Test
    void hashNeedsHashOn() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    balance: hash
                """ + ROUTE_BY_URL);

        assertThat(p).singleElement().asString().startsWith("upstreams.app.hash_on: ").contains("required");
    }

    @Test
    void hashOnNeedsBalanceHashAndAKnownForm() {
        assertThat(problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    hash_on: client_ip
                """ + ROUTE_BY_URL)).singleElement().asString().startsWith("upstreams.app.hash_on: ");
        assertThat(problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    balance: hash
                    hash_on: "header:"
                """ + ROUTE_BY_URL)).singleElement().asString().startsWith("upstreams.app.hash_on: ");
        assertThat(problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    balance: hash
                    hash_on: query:id
                """ + ROUTE_BY_URL)).singleElement().asString().startsWith("upstreams.app.hash_on: ");
    }

    @Test
    void aBadExpectStatusIsNamed() {
        for (String bad : List.of("600", "299-200", "ok", "2xx")) {
            List<String> p = problems("""
                    upstreams:
                      app:
                        servers: [http://127.0.0.1:8001]
                        health_check: {path: /healthz, expect_status: %s}
                    """.formatted(bad) + ROUTE_BY_URL);

            assertThat(p).as(bad).singleElement().asString()
                    .startsWith("upstreams.app.health_check.expect_status: ");
        }
    }

    @Test
    void aWeightOfZeroIsNamed() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers:
                      - url: http://127.0.0.1:8001
                        weight: 0
                """ + ROUTE_BY_URL);

        assertThat(p).singleElement().asString().startsWith("upstreams.app.servers[0].weight: ")
                .contains("between 1 and");
    }

    @Test
    void serversWithDifferentPathsAreRejected() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001/a, http://127.0.0.1:8002/b]
                """ + ROUTE_BY_URL);

        assertThat(p).singleElement().asString().startsWith("upstreams.app.servers: ").contains("same URL path");
    }

    @Test
    void aRouteListOfUrlsWithDifferentPathsIsRejected() {
        List<String> p = problems("""
                routes:
                  - path: /
                    upstream: [http://127.0.0.1:8001/a, http://127.0.0.1:8002/b]
                """);

        assertThat(p).singleElement().asString().startsWith("routes[0].upstream: ").contains("same URL path");
    }

    @Test
    void otherBadValuesAreNamedWithTheirPath() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: []
                  web:
                    servers:
                      - url: ftp://127.0.0.1:1
                    slow_start: fast
                    passive: {max_ejected_percent: 101, eject_for: 0s}
                    retry: {attempts: 11, retry_on: [404], budget_percent: 200, per_try_timeout: 0s}
                  "bad name":
                    servers: [http://127.0.0.1:8001]
                  api:
                    servers: [http://127.0.0.1:8001]
                    max_connections: -1
                """ + ROUTE_BY_URL);

        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.servers: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.web.servers[0].url: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.api.max_connections: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.web.slow_start: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.web.passive.eject_for: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.web.retry.per_try_timeout: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.bad name: "));
    }

    @Test
    void recordRangeErrorsNameTheirKey() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    passive: {max_ejected_percent: 101}
                  web:
                    servers: [http://127.0.0.1:8001]
                    retry: {attempts: 11}
                  api:
                    servers: [http://127.0.0.1:8001]
                    retry: {retry_on: [404]}
                  hc:
                    servers: [http://127.0.0.1:8001]
                    health_check: {path: healthz}
                """ + ROUTE_BY_URL);

        assertThat(p).anyMatch(s -> s.startsWith("upstreams.app.passive.max_ejected_percent: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.web.retry.attempts: "));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.api.retry.retry_on: ") && s.contains("404"));
        assertThat(p).anyMatch(s -> s.startsWith("upstreams.hc.health_check.path: "));
    }

    @Test
    void aRouteNamingABrokenUpstreamGetsTheUpstreamsProblemNotACrash() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers:
                      - url: http://127.0.0.1:8001
                        weight: 0
                """ + ROUTES_TO_APP);

        assertThat(p).as("the upstream's problem, and no second one for the route naming it").singleElement()
                .asString().startsWith("upstreams.app.servers[0].weight: ");
    }

    @Test
    void aShortFormRouteNamingABrokenUpstreamGetsTheUpstreamsProblemNotACrash() {
        List<String> p = problems("""
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                    balance: fastest
                routes:
                  /: app
                """);

        assertThat(p).singleElement().asString().startsWith("upstreams.app.balance: ");
    }

    @Test
    void sendProxyProtocolIsOffByDefaultAndTakesV1OrV2() {
        String yaml = """
                upstreams:
                  app:
                    servers: [http://127.0.0.1:8001]
                %s
                """ + ROUTES_TO_APP;

        assertThat(parse(yaml.formatted("")).routes().get(0).upstream().sendProxyProtocol())
                .isEqualTo(UpstreamConfig.SendProxyProtocol.OFF);
        assertThat(parse(yaml.formatted("    send_proxy_protocol: off")).routes().get(0).upstream()
                .sendProxyProtocol()).isEqualTo(UpstreamConfig.SendProxyProtocol.OFF);
        assertThat(parse(yaml.formatted("    send_proxy_protocol: v1")).routes().get(0).upstream()
                .sendProxyProtocol()).isEqualTo(UpstreamConfig.SendProxyProtocol.V1);
        assertThat(parse(yaml.formatted("    send_proxy_protocol: v2")).routes().get(0).upstream()
                .sendProxyProtocol()).isEqualTo(UpstreamConfig.SendProxyProtocol.V2);
    }

    @Test
    void sendProxyProtocolRejectsOtherValuesWithItsKeyPath() {
        for (String value : List.of("v3", "true", "2", "proxy", "\"\"")) {
            List<String> p = problems("""
                    upstreams:
                      app:
                        servers: [http://127.0.0.1:8001]
                        send_proxy_protocol: %s
                    """.formatted(value) + ROUTE_BY_URL);

            assertThat(p).as(value).singleElement().asString()
                    .startsWith("upstreams.app.send_proxy_protocol: ").contains("v1 or v2");
        }
    }
}
