package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The gRPC keys: a route's {@code grpc_web}, {@code retry_on}'s gRPC conditions, {@code health_check.grpc}. */
class GrpcConfigTest {
    private static ProxyConfig parse(String yaml) {
        return ProxyConfig.parse("listen: 127.0.0.1:8080\n" + yaml, "test.yaml");
    }

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
        assertThat(e).as("the configuration is rejected").isNotNull();
        return e.problems();
    }

    @Test
    void grpcWebIsARouteOptionOffByDefault() {
        ProxyConfig c = parse("""
                routes:
                  - {path: /a.v1.A, upstream: "http://127.0.0.1:9000", grpc_web: true}
                  - {path: /b, upstream: "http://127.0.0.1:9000"}
                """);
        assertThat(c.routes().get(0).grpcWeb()).isTrue();
        assertThat(c.routes().get(1).grpcWeb()).isFalse();
        assertThat(RouteConfig.builder("/x").upstream("http://h:1").grpcWeb(true).build().grpcWeb()).isTrue();
        assertThat(c.routes().get(0).withPolicies(List.of()).grpcWeb()).as("kept by the copies").isTrue();
    }

    @Test
    void grpcWebMustBeABoolean() {
        assertThat(problems("""
                routes:
                  - {path: /, upstream: "http://127.0.0.1:9000", grpc_web: maybe}
                """)).anyMatch(p -> p.contains("routes[0].grpc_web"));
    }

    @Test
    void retryOnTakesTheGrpcConditions() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: ["http://127.0.0.1:9000"]
                    retry: {attempts: 2, retry_on: [grpc_unavailable, grpc_resource_exhausted, 503]}
                routes:
                  - {path: /, upstream: app}
                """);
        RetryConfig r = c.routes().get(0).upstream().retry();
        assertThat(r.retriesGrpcStatus(14)).isTrue();
        assertThat(r.retriesGrpcStatus(8)).isTrue();
        assertThat(r.retriesGrpcStatus(2)).isFalse();
        assertThat(RetryConfig.DEFAULTS.retriesGrpcStatus(14)).isFalse();
    }

    @Test
    void anUnknownRetryConditionNamesItsKeyAndTheChoices() {
        assertThat(problems("""
                upstreams:
                  app:
                    servers: ["http://127.0.0.1:9000"]
                    retry: {retry_on: [grpc_unavaliable]}
                routes:
                  - {path: /, upstream: app}
                """)).anyMatch(p -> p.contains("upstreams.app.retry") && p.contains("grpc_unavaliable")
                        && p.contains("grpc_unavailable, grpc_resource_exhausted"));
    }

    @Test
    void aGrpcHealthCheckNeedsNoPath() {
        ProxyConfig c = parse("""
                upstreams:
                  app:
                    servers: ["http://127.0.0.1:9000"]
                    health_check: {grpc: true, service: orders.v1.Orders, interval: 2s}
                routes:
                  - {path: /, upstream: app}
                """);
        HealthCheckConfig h = c.routes().get(0).upstream().healthCheck();
        assertThat(h.grpc()).isTrue();
        assertThat(h.service()).isEqualTo("orders.v1.Orders");
        assertThat(h).isEqualTo(HealthCheckConfig.grpc("orders.v1.Orders")
                .interval(java.time.Duration.ofSeconds(2)).build());
    }

    @Test
    void aGrpcHealthCheckRefusesHttpKeysAndServiceNeedsGrpc() {
        assertThat(problems("""
                upstreams:
                  app:
                    servers: ["http://127.0.0.1:9000"]
                    health_check: {grpc: true, path: /healthz, expect_status: 200}
                  other:
                    servers: ["http://127.0.0.1:9001"]
                    health_check: {path: /healthz, service: x}
                routes:
                  - {path: /, upstream: app}
                  - {path: /o, upstream: other}
                """)).anyMatch(p -> p.contains("upstreams.app.health_check.path: not with grpc: true"))
                .anyMatch(p -> p.contains("upstreams.app.health_check.expect_status: not with grpc: true"))
                .anyMatch(p -> p.contains("upstreams.other.health_check.service: needs grpc: true"));
    }
}
