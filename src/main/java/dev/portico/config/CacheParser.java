package dev.portico.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Reads a {@code cache:} policy section; an empty section takes every default. */
final class CacheParser {
    static final List<String> KEYS = List.of("max_size", "max_object_size", "heuristic", "coalesce",
            "stale_if_error", "status_header");

    private CacheParser() {
    }

    static PolicyConfig parse(YamlConfigLoader y, Object node, String path) {
        if (node == null) {
            return CachePolicyConfig.defaults();
        }
        Map<String, Object> m = y.mapping(node, path, KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        CachePolicyConfig.Builder b = CachePolicyConfig.builder();
        if (m.containsKey("max_size")) {
            Long v = y.size(m.get("max_size"), path + ".max_size");
            if (v != null) {
                b.maxSize(v);
            }
        }
        if (m.containsKey("max_object_size")) {
            Long v = y.size(m.get("max_object_size"), path + ".max_object_size");
            if (v != null) {
                b.maxObjectSize(v);
            }
        }
        if (m.containsKey("heuristic")) {
            Boolean v = y.bool(m.get("heuristic"), path + ".heuristic");
            b.heuristic(v == null || v);
        }
        if (m.containsKey("coalesce")) {
            Boolean v = y.bool(m.get("coalesce"), path + ".coalesce");
            b.coalesce(v == null || v);
        }
        if (m.containsKey("stale_if_error")) {
            Duration v = y.anyDuration(m.get("stale_if_error"), path + ".stale_if_error");
            if (v != null) {
                b.staleIfError(v);
            }
        }
        if (m.containsKey("status_header")) {
            Boolean v = y.bool(m.get("status_header"), path + ".status_header");
            b.statusHeader(v == null || v);
        }
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, KEYS, b::build);
    }
}
