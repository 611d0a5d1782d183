package dev.portico.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code compress} policy's settings for {@link PoliciesParser}, reporting each problem under its key path
 * (e.g. {@code policies.NAME.compress.level.br}).
 */
final class CompressParser {
    private static final List<String> KEYS = List.of("encodings", "min_length", "types", "level");

    private final YamlConfigLoader y;

    CompressParser(YamlConfigLoader loader) {
        this.y = loader;
    }

    /**
     * @param node the settings: a mapping, or nothing for every default
     * @param path the key path of the policy, e.g. {@code policies.web.compress}
     * @return the policy, or {@code null} after reporting its problems
     */
    CompressPolicyConfig parse(Object node, String path) {
        if (node == null) {
            return CompressPolicyConfig.defaults();
        }
        Map<String, Object> m = y.mapping(node, path, KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        CompressPolicyConfig.Builder b = CompressPolicyConfig.builder();
        if (m.containsKey("encodings")) {
            List<String> e = names(m.get("encodings"), path + ".encodings", "an encoding (zstd, br, gzip)");
            if (e != null) {
                b.encodings(e.toArray(new String[0]));
            }
        }
        if (m.containsKey("min_length")) {
            Long n = y.size(m.get("min_length"), path + ".min_length");
            if (n != null) {
                b.minLength(n);
            }
        }
        if (m.containsKey("types")) {
            List<String> t = names(m.get("types"), path + ".types", "a media type such as text/html");
            if (t != null) {
                b.types(t.toArray(new String[0]));
            }
        }
        if (m.containsKey("level")) {
            levels(m.get("level"), path + ".level", b);
        }
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, KEYS, b::build);
    }

    private void levels(Object node, String path, CompressPolicyConfig.Builder b) {
        Map<String, Object> m = y.mapping(node, path, CompressPolicyConfig.DEFAULT_ENCODINGS);
        if (m == null) {
            return;
        }
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String at = path + "." + e.getKey();
            if (!(e.getValue() instanceof Integer level)) {
                y.problem(at + ": expected a whole number, got " + YamlConfigLoader.describe(e.getValue()));
                continue;
            }
            // Checked here, so the problem names the encoding's own key path.
            if (y.convert(at, () -> {
                CompressPolicyConfig.checkLevel(e.getKey(), level);
                return level;
            }) != null) {
                b.level(e.getKey(), level);
            }
        }
    }

    /** A list of strings (one string is a list of one). */
    private List<String> names(Object node, String path, String expected) {
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = node instanceof List ? path + "[" + i + "]" : path;
            String s = y.text(list.get(i), at, expected, v -> v);
            if (s == null) {
                return null;
            }
            result.add(s);
        }
        return result;
    }
}
