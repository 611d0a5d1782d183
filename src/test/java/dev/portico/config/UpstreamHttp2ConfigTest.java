package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A named upstream's {@code protocol} and {@code http2} keys, from YAML and from the builders. */
class UpstreamHttp2ConfigTest {
    private static final String ROUTES = """
            routes:
              - path: /
                upstream: orders
            """;

    private static ProxyConfig parse(String upstream) {
        return ProxyConfig.parse("listen: 127.0.0.1:8080\nupstreams:\n  orders:\n" + upstream.indent(4) + ROUTES,
                "portico.yaml");
    }

    private static ConfigException rejected(String upstream) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(upstream));
        assertThat(e).as("the configuration is rejected").isNotNull();
        return e;
    }

    private static UpstreamConfig orders(ProxyConfig c) {
        return c.routes().get(0).upstream();
    }

    @Test
    void readsProtocolAndEveryHttp2Key() {
        UpstreamConfig u = orders(parse("""
                servers: [http://10.0.0.5:50051]
                protocol: h2c
                http2:
                  max_streams_per_connection: 50
                  connections_per_endpoint: 2
                  ping_interval: 10s
                """));
        assertThat(u.protocol()).isEqualTo(UpstreamConfig.Protocol.H2C);
        assertThat(u.http2()).isEqualTo(new UpstreamHttp2Config(50, 2, Duration.ofSeconds(10)));
    }

    @Test
    void defaultsToHttp1AndTheDocumentedHttp2Settings() {
        UpstreamConfig u = orders(parse("servers: [http://10.0.0.5:8080]\n"));
        assertThat(u.protocol()).isEqualTo(UpstreamConfig.Protocol.HTTP1);
        assertThat(u.http2()).isEqualTo(new UpstreamHttp2Config(100, 1, Duration.ofSeconds(30)));
    }

    @Test
    void h2AndAutoNeedHttpsServers() {
        for (String protocol : new String[] {"h2", "auto"}) {
            ConfigException e = rejected("servers: [http://10.0.0.5:50051]\nprotocol: " + protocol + "\n");
            assertThat(e.getMessage()).contains("portico.yaml")
                    .contains("upstreams.orders.protocol: " + protocol + " needs https:// servers");
        }
        assertThat(orders(parse("servers: [https://10.0.0.5:50051]\nprotocol: auto\n")).protocol())
                .isEqualTo(UpstreamConfig.Protocol.AUTO);
    }

    @Test
    void h2cNeedsHttpServers() {
        assertThat(rejected("servers: [https://10.0.0.5:50051]\nprotocol: h2c\n").getMessage())
                .contains("portico.yaml").contains("upstreams.orders.protocol: h2c needs http:// servers");
    }

    @Test
    void anUnknownProtocolIsNamed() {
        assertThat(rejected("servers: [http://10.0.0.5:50051]\nprotocol: spdy\n").problems())
                .containsExactly("upstreams.orders.protocol: expected http1, h2c, h2 or auto, got \"spdy\"");
    }

    @Test
    void outOfRangeNumbersAndUnknownKeysAreNamedByKeyPath() {
        ConfigException e = rejected("""
                servers: [http://10.0.0.5:50051]
                protocol: h2c
                http2:
                  max_streams_per_connection: 0
                  connections_per_endpoint: 1001
                """);
        assertThat(e.problems()).anyMatch(p -> p.startsWith("upstreams.orders.http2.max_streams_per_connection:"));
        assertThat(e.problems()).anyMatch(p -> p.startsWith("upstreams.orders.http2.connections_per_endpoint:"));
        assertThat(rejected("servers: [http://10.0.0.5:50051]\nhttp2:\n  max_stream: 5\n").problems())
                .anyMatch(p -> p.startsWith("upstreams.orders.http2.max_stream: unknown key"));
        assertThat(rejected("servers: [http://10.0.0.5:50051]\nhttp2:\n  ping_interval: -1s\n").problems())
                .anyMatch(p -> p.startsWith("upstreams.orders.http2.ping_interval:"));
    }

    @Test
    void aProxyProtocolHeaderNeedsHttp1() {
        assertThat(rejected("servers: [http://10.0.0.5:50051]\nprotocol: h2c\nsend_proxy_protocol: v1\n")
                .problems()).anyMatch(p -> p.startsWith("upstreams.orders.send_proxy_protocol: needs protocol http1"));
    }

    @Test
    void theBuildersCheckTheSameRules() {
        UpstreamConfig u = UpstreamConfig.builder("orders").servers("http://10.0.0.5:50051")
                .protocol(UpstreamConfig.Protocol.H2C).http2(h -> h.maxStreamsPerConnection(10)).build();
        assertThat(u.http2().maxStreamsPerConnection()).isEqualTo(10);
        assertThat(u.http2().connectionsPerEndpoint()).isEqualTo(1);
        assertThatThrownBy(() -> UpstreamConfig.builder("orders").servers("http://10.0.0.5:50051")
                .protocol(UpstreamConfig.Protocol.H2).build()).hasMessageContaining("h2 needs https:// servers");
        assertThatThrownBy(() -> UpstreamHttp2Config.builder().connectionsPerEndpoint(0).build())
                .hasMessageContaining("connections_per_endpoint");
    }
}
