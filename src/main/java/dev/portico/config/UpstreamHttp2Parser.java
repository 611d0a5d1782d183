package dev.portico.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Reads a named upstream's {@code protocol} and {@code http2} keys for {@link UpstreamsParser}, reporting problems
 * to the loader's list under their key path (e.g. {@code upstreams.orders.http2.max_streams_per_connection}).
 */
final class UpstreamHttp2Parser {
    private static final List<String> HTTP2_KEYS = List.of("max_streams_per_connection", "connections_per_endpoint",
            "ping_interval");

    private final YamlConfigLoader y;

    UpstreamHttp2Parser(YamlConfigLoader loader) {
        this.y = loader;
    }

    /** @return the protocol, {@link UpstreamConfig.Protocol#HTTP1} when absent, null after a reported problem */
    UpstreamConfig.Protocol protocol(Map<String, Object> upstream, String upstreamPath) {
        if (!upstream.containsKey("protocol")) {
            return UpstreamConfig.Protocol.HTTP1;
        }
        return y.text(upstream.get("protocol"), upstreamPath + ".protocol", "http1, h2c, h2 or auto",
                UpstreamConfig.Protocol::parse);
    }

    /** @return the settings, {@link UpstreamHttp2Config#DEFAULTS} when absent, null after a reported problem */
    UpstreamHttp2Config http2(Map<String, Object> upstream, String upstreamPath) {
        if (!upstream.containsKey("http2")) {
            return UpstreamHttp2Config.DEFAULTS;
        }
        String path = upstreamPath + ".http2";
        Map<String, Object> m = y.mapping(upstream.get("http2"), path, HTTP2_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        UpstreamHttp2Config d = UpstreamHttp2Config.DEFAULTS;
        Long streams = m.containsKey("max_streams_per_connection")
                ? y.count(m.get("max_streams_per_connection"), path + ".max_streams_per_connection")
                : Long.valueOf(d.maxStreamsPerConnection());
        Long connections = m.containsKey("connections_per_endpoint")
                ? y.count(m.get("connections_per_endpoint"), path + ".connections_per_endpoint")
                : Long.valueOf(d.connectionsPerEndpoint());
        Duration ping = m.containsKey("ping_interval")
                ? y.anyDuration(m.get("ping_interval"), path + ".ping_interval") : d.pingInterval();
        range(streams, UpstreamHttp2Config.MAX_STREAMS, path + ".max_streams_per_connection");
        range(connections, UpstreamHttp2Config.MAX_CONNECTIONS, path + ".connections_per_endpoint");
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, HTTP2_KEYS, () -> new UpstreamHttp2Config(clamp(streams), clamp(connections), ping));
    }

    /** Each number is checked on its own, so that every one out of range is reported at once. */
    private void range(Long value, int max, String path) {
        if (value != null && (value < 1 || value > max)) {
            y.problem(path + ": must be between 1 and " + max + ", got " + value);
        }
    }

    private static int clamp(long v) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }
}
