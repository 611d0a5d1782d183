package dev.portico.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the span-export keys of the {@code tracing} section ({@code otlp}, {@code sampler}, {@code service_name}) with
 * the problem reporting of {@link YamlConfigLoader}; {@code tracing.generate} is read with the operations keys.
 */
final class TracingParser {
    /** Every key of {@code tracing}. */
    static final List<String> KEYS = List.of("generate", "otlp", "sampler", "service_name");
    private static final List<String> OTLP_KEYS = List.of("endpoint", "headers", "timeout");
    private static final List<String> SAMPLER_KEYS = List.of("ratio", "parent_based");
    private static final List<String> RECORD_KEYS = List.of("sampler.ratio", "service_name");

    private final YamlConfigLoader y;

    TracingParser(YamlConfigLoader loader) {
        this.y = loader;
    }

    /**
     * @param section the {@code tracing} mapping as read (its unknown keys already reported), or {@code null}
     * @return the settings, or {@code null} after reporting problems
     */
    TracingConfig tracing(Object section) {
        if (!(section instanceof Map<?, ?> raw)) {
            return TracingConfig.DEFAULTS; // absent; a non-mapping was reported with tracing.generate
        }
        int before = y.problemCount();
        Map<String, Object> m = new LinkedHashMap<>();
        raw.forEach((k, v) -> m.put(String.valueOf(k), v));
        TracingConfig d = TracingConfig.DEFAULTS;
        OtlpConfig otlp = m.get("otlp") == null ? null : otlp(m.get("otlp"));
        double ratio = d.samplerRatio();
        boolean parentBased = d.samplerParentBased();
        if (m.get("sampler") != null) {
            Map<String, Object> s = y.mapping(m.get("sampler"), "tracing.sampler", SAMPLER_KEYS);
            if (s != null) {
                if (s.containsKey("ratio")) {
                    Object r = s.get("ratio");
                    if (r instanceof Number n) {
                        ratio = n.doubleValue();
                    } else {
                        y.problem("tracing.sampler.ratio: expected a number from 0 to 1, got "
                                + YamlConfigLoader.describe(r));
                    }
                }
                if (s.containsKey("parent_based")) {
                    Boolean b = y.bool(s.get("parent_based"), "tracing.sampler.parent_based");
                    parentBased = b == null ? parentBased : b;
                }
            }
        }
        String service = d.serviceName();
        if (m.containsKey("service_name")) {
            service = y.text(m.get("service_name"), "tracing.service_name", "a name", v -> v);
        }
        if (y.problemCount() != before || service == null) {
            return null;
        }
        double r = ratio;
        boolean pb = parentBased;
        String name = service;
        return y.build("tracing", RECORD_KEYS, () -> new TracingConfig(otlp, r, pb, name));
    }

    private OtlpConfig otlp(Object node) {
        Map<String, Object> m = y.mapping(node, "tracing.otlp", OTLP_KEYS);
        if (m == null) {
            return null;
        }
        if (m.get("endpoint") == null) {
            return y.problem("tracing.otlp.endpoint: is required in an otlp section (http://host:4318 or "
                    + "grpc://host:4317)");
        }
        URI endpoint = y.text(m.get("endpoint"), "tracing.otlp.endpoint", "a URL such as http://host:4318",
                TracingParser::uri);
        Map<String, String> headers = new LinkedHashMap<>();
        if (m.get("headers") != null) {
            if (m.get("headers") instanceof Map<?, ?> hm) {
                for (Map.Entry<?, ?> e : hm.entrySet()) {
                    Object v = e.getValue();
                    if (v instanceof String || v instanceof Number || v instanceof Boolean) {
                        headers.put(String.valueOf(e.getKey()), String.valueOf(v));
                    } else {
                        y.problem("tracing.otlp.headers." + e.getKey() + ": expected a value, got "
                                + YamlConfigLoader.describe(v));
                    }
                }
            } else {
                y.problem("tracing.otlp.headers: expected a mapping of field names to values, got "
                        + YamlConfigLoader.describe(m.get("headers")));
            }
        }
        Duration timeout = m.containsKey("timeout") ? y.positiveDuration(m.get("timeout"), "tracing.otlp.timeout")
                : OtlpConfig.DEFAULT_TIMEOUT;
        if (endpoint == null || timeout == null) {
            return null;
        }
        return y.build("tracing.otlp", OTLP_KEYS, () -> new OtlpConfig(endpoint, headers, timeout));
    }

    private static URI uri(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: \"" + text + "\"");
        }
    }
}
