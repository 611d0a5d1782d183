package dev.portico.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code timeouts:} and {@code limits:} sections for {@link YamlConfigLoader}, whose problem list it
 * reports to.
 */
final class TimeoutsLimitsReader {
    private static final List<String> TIMEOUT_KEYS = List.of("connect", "response", "idle", "request_header", "drain",
            "tls_handshake", "tunnel_idle", "drain_delay");
    private static final List<String> LIMIT_KEYS = List.of("max_request_line", "max_header_size", "max_request_body",
            "max_headers", "max_connections", "max_requests_per_connection", "max_method_length",
            "max_buffered_bytes");
    private static final List<String> COUNT_LIMITS = List.of("max_headers", "max_connections",
            "max_requests_per_connection", "max_method_length");

    private final YamlConfigLoader y;

    TimeoutsLimitsReader(YamlConfigLoader loader) {
        this.y = loader;
    }

    /** @return the {@code timeouts:} section, the defaults if it is absent, or null after reporting its problems */
    TimeoutsConfig timeouts(Object node) {
        if (node == null) {
            return TimeoutsConfig.DEFAULTS;
        }
        Map<String, Object> m = y.mapping(node, "timeouts", TIMEOUT_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        Duration connect = duration(m, "connect", TimeoutsConfig.DEFAULT_CONNECT);
        Duration response = duration(m, "response", TimeoutsConfig.DEFAULT_RESPONSE);
        Duration idle = duration(m, "idle", TimeoutsConfig.DEFAULT_IDLE);
        Duration requestHeader = duration(m, "request_header", TimeoutsConfig.DEFAULT_REQUEST_HEADER);
        Duration drain = duration(m, "drain", TimeoutsConfig.DEFAULT_DRAIN);
        Duration tlsHandshake = duration(m, "tls_handshake", TimeoutsConfig.DEFAULT_TLS_HANDSHAKE);
        Duration tunnelIdle = duration(m, "tunnel_idle", TimeoutsConfig.DEFAULT_TUNNEL_IDLE);
        // Zero is the default and means no delay, so it is not run through the positive-only check.
        Duration drainDelay = m.containsKey("drain_delay") ? y.text(m.get("drain_delay"), "timeouts.drain_delay",
                "a duration such as 5s", YamlConfigLoader::parseDuration) : TimeoutsConfig.DEFAULT_DRAIN_DELAY;
        if (y.problemCount() != before) {
            return null;
        }
        return y.build("timeouts", TIMEOUT_KEYS, () -> new TimeoutsConfig(connect, response, idle, requestHeader,
                drain, tlsHandshake, tunnelIdle, drainDelay));
    }

    private Duration duration(Map<String, Object> m, String key, Duration dflt) {
        if (!m.containsKey(key)) {
            return dflt;
        }
        return y.positiveDuration(m.get(key), "timeouts." + key);
    }

    /** @return the {@code limits:} section, the defaults if it is absent, or null after reporting its problems */
    LimitsConfig limits(Object node) {
        if (node == null) {
            return LimitsConfig.DEFAULTS;
        }
        Map<String, Object> m = y.mapping(node, "limits", LIMIT_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        long[] v = {LimitsConfig.DEFAULT_MAX_REQUEST_LINE, LimitsConfig.DEFAULT_MAX_HEADER_SIZE,
            LimitsConfig.DEFAULT_MAX_REQUEST_BODY, LimitsConfig.DEFAULT_MAX_HEADERS,
            LimitsConfig.DEFAULT_MAX_CONNECTIONS, LimitsConfig.DEFAULT_MAX_REQUESTS_PER_CONNECTION,
            LimitsConfig.DEFAULT_MAX_METHOD_LENGTH, LimitsConfig.DEFAULT_MAX_BUFFERED_BYTES};
        for (int i = 0; i < LIMIT_KEYS.size(); i++) {
            String key = LIMIT_KEYS.get(i);
            if (!m.containsKey(key)) {
                continue;
            }
            String path = "limits." + key;
            Long value = COUNT_LIMITS.contains(key) ? y.count(m.get(key), path) : y.size(m.get(key), path);
            if (value != null && y.convert(path, () -> {
                LimitsConfig.check(key, value);
                return value;
            }) != null) {
                v[i] = value;
            }
        }
        if (y.problemCount() != before) {
            return null;
        }
        return y.build("limits", LIMIT_KEYS, () -> new LimitsConfig(v[0], v[1], v[2], (int) v[3], (int) v[4],
                (int) v[5], (int) v[6], v[7]));
    }
}
