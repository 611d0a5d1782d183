package dev.portico.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code forward_auth} policy for {@link PoliciesParser}, reporting problems under their key path, e.g.
 * {@code policies.sso.forward_auth.timeout}.
 */
final class ForwardAuthParser {
    static final List<String> KEYS = List.of("url", "copy_request_headers", "copy_response_headers", "timeout",
            "on_failure", "cache");

    private ForwardAuthParser() {
    }

    /**
     * @param y the loader, which collects the problems
     * @param node the policy's settings
     * @param path the key path of the settings, e.g. {@code policies.sso.forward_auth}
     * @return the policy, or {@code null} after reporting why there is none
     */
    static ForwardAuthPolicyConfig parse(YamlConfigLoader y, Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        String url = m.get("url") == null ? y.problem(path + ".url: is required")
                : y.text(m.get("url"), path + ".url", "an http:// or https:// URL", s -> s);
        List<String> request = m.containsKey("copy_request_headers")
                ? names(y, m.get("copy_request_headers"), path + ".copy_request_headers")
                : ForwardAuthPolicyConfig.ALL_REQUEST_HEADERS;
        List<String> response = m.containsKey("copy_response_headers")
                ? names(y, m.get("copy_response_headers"), path + ".copy_response_headers") : List.of();
        Duration timeout = m.containsKey("timeout") ? y.positiveDuration(m.get("timeout"), path + ".timeout")
                : ForwardAuthPolicyConfig.DEFAULT_TIMEOUT;
        Duration cache = m.containsKey("cache") ? y.anyDuration(m.get("cache"), path + ".cache") : Duration.ZERO;
        ForwardAuthPolicyConfig.OnFailure onFailure = ForwardAuthPolicyConfig.OnFailure.DENY;
        if (m.containsKey("on_failure")) {
            String v = y.text(m.get("on_failure"), path + ".on_failure", "deny or allow", s -> s);
            if ("allow".equals(v)) {
                onFailure = ForwardAuthPolicyConfig.OnFailure.ALLOW;
            } else if (v != null && !v.equals("deny")) {
                y.problem(path + ".on_failure: expected deny or allow, got \"" + v + "\"");
            }
        }
        if (y.problemCount() != before) {
            return null;
        }
        ForwardAuthPolicyConfig.OnFailure chosen = onFailure;
        return y.build(path, KEYS,
                () -> new ForwardAuthPolicyConfig(url, request, response, timeout, chosen, cache));
    }

    /** A list of field names (a single name is a list of one; {@code "*"} alone means every field). */
    private static List<String> names(YamlConfigLoader y, Object node, String path) {
        if (node == null) {
            return List.of();
        }
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = node instanceof List ? path + "[" + i + "]" : path;
            String v = y.text(list.get(i), at, "a field name", s -> s);
            if (v == null) {
                return null;
            }
            result.add(v);
        }
        return result;
    }
}
