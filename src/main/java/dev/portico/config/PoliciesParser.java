package dev.portico.config;

import dev.portico.policy.Template;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads {@code policies:}, {@code default_policies:}, {@code trusted_proxies:} and a route's {@code policies:} for
 * {@link YamlConfigLoader}, whose problem list it reports to. Key paths read {@code policies.NAME.TYPE.KEY} for
 * named policies and {@code routes[i].policies[j].TYPE.KEY} for inline ones.
 */
final class PoliciesParser {
    /** The policy types, each the one key of a policy's mapping. */
    static final List<String> TYPES = List.of("headers", "rewrite", "redirect", "respond", "ip_filter",
            "security_headers", "cors", "forward_auth", "basic_auth", "jwt", "rate_limit", "cache", "compress", "class");
    private static final List<String> HEADERS_KEYS = List.of("request", "response");
    private static final List<String> RULE_KEYS = List.of("set", "add", "remove", "set_if_absent");
    private static final List<String> REWRITE_KEYS = List.of("regex", "replacement");
    private static final List<String> REDIRECT_KEYS = List.of("to", "status");
    private static final List<String> RESPOND_KEYS = List.of("status", "body", "content_type", "headers");
    private static final List<String> IP_KEYS = List.of("allow", "deny");
    private static final List<String> SECURITY_KEYS = List.of("preset", "mode", "hsts", "content_security_policy",
            "frame_options", "referrer_policy", "permissions_policy", "content_type_options",
            "cross_origin_opener_policy");
    private static final List<String> HSTS_KEYS = List.of("max_age", "include_subdomains", "preload");
    private static final List<String> CORS_KEYS = List.of("allow_origins", "allow_methods", "allow_headers",
            "expose_headers", "max_age", "allow_credentials");
    private static final String NAME = "[A-Za-z0-9_.-]+";

    private final YamlConfigLoader y;
    private final ClassLoader classLoader;
    private final Map<String, PolicyConfig> named = new LinkedHashMap<>();
    private final List<String> broken = new ArrayList<>();

    PoliciesParser(YamlConfigLoader loader, ClassLoader classLoader) {
        this.y = loader;
        this.classLoader = classLoader;
    }

    /** Reads the {@code policies:} section: named policies, each one type and its settings. */
    void parseNamed(Object node) {
        if (node == null) {
            return;
        }
        if (!(node instanceof Map<?, ?> map)) {
            y.problem("policies: expected a mapping of name to policy, got " + YamlConfigLoader.describe(node));
            return;
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = String.valueOf(e.getKey());
            String path = "policies." + name;
            PolicyConfig p = null;
            if (!name.matches(NAME)) {
                y.problem(path + ": a name may have letters, digits, '_', '.' and '-' only");
            } else {
                p = policy(e.getValue(), path);
            }
            if (p == null) {
                broken.add(name);
            } else {
                named.put(name, p);
            }
        }
    }

    /** A list of policies: names of {@code policies:} entries, or inline one-key mappings. */
    List<PolicyConfig> list(Object node, String path) {
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof List<?> list)) {
            return y.problem(path + ": expected a list of policy names or one-key mappings, got "
                    + YamlConfigLoader.describe(node));
        }
        List<PolicyConfig> result = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            Object entry = list.get(i);
            String at = path + "[" + i + "]";
            PolicyConfig p;
            if (entry instanceof String s) {
                p = named.get(s);
                if (p == null && !broken.contains(s)) {
                    y.problem(at + ": no policy named \"" + s + "\" (known: "
                            + (named.isEmpty() ? "none" : String.join(", ", named.keySet())) + ")");
                }
            } else {
                p = policy(entry, at);
            }
            ok &= p != null;
            result.add(p);
        }
        return ok ? result : null;
    }

    /** The {@code trusted_proxies:} list of CIDR blocks. */
    List<Cidr> trustedProxies(Object node) {
        if (node == null) {
            return List.of();
        }
        return cidrs(node, "trusted_proxies");
    }

    private PolicyConfig policy(Object node, String path) {
        if (!(node instanceof Map<?, ?> map) || map.isEmpty()) {
            return y.problem(path + ": expected a mapping with one policy type (" + String.join(", ", TYPES)
                    + "), got " + YamlConfigLoader.describe(node));
        }
        if (map.containsKey("class")) {
            return custom(map, path);
        }
        if (map.size() != 1) {
            return y.problem(path + ": one policy type per entry, got " + map.size() + " keys ("
                    + String.join(", ", map.keySet().stream().map(String::valueOf).toList())
                    + "); list them as separate entries");
        }
        Map.Entry<?, ?> e = map.entrySet().iterator().next();
        String type = String.valueOf(e.getKey());
        String at = path + "." + type;
        Object v = e.getValue();
        switch (type) {
            case "headers": return headers(v, at);
            case "rewrite": return rewrite(v, at);
            case "redirect": return redirect(v, at);
            case "respond": return respond(v, at);
            case "ip_filter": return ipFilter(v, at);
            case "security_headers": return securityHeaders(v, at);
            case "cors": return cors(v, at);
            case "forward_auth": return ForwardAuthParser.parse(y, v, at);
            case "basic_auth": return new AuthParser(y).basicAuth(v, at);
            case "jwt": return new AuthParser(y).jwt(v, at);
            case "rate_limit": return new RateLimitParser(y).policy(v, at, y.redisConfigured());
            case "cache": return CacheParser.parse(y, v, at);
            case "compress": return new CompressParser(y).parse(v, at);
            default:
                return y.problem(at + ": unknown policy type (known: " + String.join(", ", TYPES) + ")");
        }
    }

    private PolicyConfig custom(Map<?, ?> map, String path) {
        for (Object k : map.keySet()) {
            if (!k.equals("class") && !k.equals("settings")) {
                return y.problem(path + "." + k + ": unknown key (a custom policy has class and settings)");
            }
        }
        String className = y.text(map.get("class"), path + ".class", "a class name such as com.example.MyPolicy",
                s -> s);
        Object settings = map.get("settings");
        if (settings != null && !(settings instanceof Map)) {
            return y.problem(path + ".settings: expected a mapping, got " + YamlConfigLoader.describe(settings));
        }
        if (className == null) {
            return null;
        }
        Map<String, Object> s = new LinkedHashMap<>();
        if (settings != null) {
            ((Map<?, ?>) settings).forEach((k, v) -> s.put(String.valueOf(k), v));
        }
        return y.convert(path + ".class", () -> CustomPolicyConfig.load(className, s, classLoader));
    }

    private PolicyConfig headers(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, HEADERS_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        HeaderRulesConfig request = rules(m.get("request"), path + ".request");
        HeaderRulesConfig response = rules(m.get("response"), path + ".response");
        if (y.problemCount() != before) {
            return null;
        }
        if (request.isEmpty() && response.isEmpty()) {
            return y.problem(path + ": needs request or response rules");
        }
        return new HeadersPolicyConfig(request, response);
    }

    private HeaderRulesConfig rules(Object node, String path) {
        if (node == null) {
            return HeaderRulesConfig.NONE;
        }
        Map<String, Object> m = y.mapping(node, path, RULE_KEYS);
        if (m == null) {
            return null;
        }
        List<HeaderField> set = fields(m.get("set"), path + ".set");
        List<HeaderField> add = fields(m.get("add"), path + ".add");
        List<HeaderField> ifAbsent = fields(m.get("set_if_absent"), path + ".set_if_absent");
        List<String> remove = m.get("remove") == null ? List.of()
                : strings(m.get("remove"), path + ".remove", "a header field name", HeaderField::fieldName);
        if (set == null || add == null || ifAbsent == null || remove == null) {
            return null;
        }
        return y.convert(path, () -> new HeaderRulesConfig(set, add, remove, ifAbsent));
    }

    /** A mapping of field name to a value template, or to a list of them (several lines). */
    private List<HeaderField> fields(Object node, String path) {
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof Map<?, ?> map)) {
            return y.problem(path + ": expected a mapping of field name to value, got "
                    + YamlConfigLoader.describe(node));
        }
        List<HeaderField> result = new ArrayList<>();
        boolean ok = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = String.valueOf(e.getKey());
            String at = path + "." + name;
            List<?> values = e.getValue() instanceof List<?> l ? l : List.of(e.getValue() == null ? "" : e.getValue());
            for (Object v : values) {
                if (!(v instanceof String || v instanceof Number || v instanceof Boolean)) {
                    y.problem(at + ": expected a text value, got " + YamlConfigLoader.describe(v));
                    ok = false;
                    continue;
                }
                HeaderField f = y.convert(at, () -> HeaderField.of(name, String.valueOf(v)));
                ok &= f != null;
                result.add(f);
            }
        }
        return ok ? result : null;
    }

    private PolicyConfig rewrite(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, REWRITE_KEYS);
        if (m == null) {
            return null;
        }
        String regex = required(m, "regex", path, "a regular expression");
        String replacement = required(m, "replacement", path, "a replacement path such as /api/$1");
        if (regex == null || replacement == null) {
            return null;
        }
        return y.build(path, REWRITE_KEYS, () -> new RewritePolicyConfig(regex, replacement));
    }

    private PolicyConfig redirect(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, REDIRECT_KEYS);
        if (m == null) {
            return null;
        }
        Template to = m.get("to") == null ? y.problem(path + ".to: is required")
                : y.text(m.get("to"), path + ".to", "a URL template", Template::parse);
        Integer status = m.containsKey("status") ? status(m.get("status"), path + ".status")
                : Integer.valueOf(RedirectPolicyConfig.DEFAULT_STATUS);
        if (to == null || status == null) {
            return null;
        }
        return y.build(path, REDIRECT_KEYS, () -> new RedirectPolicyConfig(to, status));
    }

    private PolicyConfig respond(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, RESPOND_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        Integer status = m.containsKey("status") ? status(m.get("status"), path + ".status") : Integer.valueOf(200);
        String body = m.containsKey("body") ? y.text(m.get("body"), path + ".body", "text", s -> s) : "";
        String type = m.containsKey("content_type")
                ? y.text(m.get("content_type"), path + ".content_type", "a media type", s -> s)
                : RespondPolicyConfig.DEFAULT_CONTENT_TYPE;
        List<HeaderField> headers = fields(m.get("headers"), path + ".headers");
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, RESPOND_KEYS, () -> new RespondPolicyConfig(status, body, type, headers));
    }

    private PolicyConfig ipFilter(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, IP_KEYS);
        if (m == null) {
            return null;
        }
        List<Cidr> allow = m.get("allow") == null ? List.of() : cidrs(m.get("allow"), path + ".allow");
        List<Cidr> deny = m.get("deny") == null ? List.of() : cidrs(m.get("deny"), path + ".deny");
        if (allow == null || deny == null) {
            return null;
        }
        return y.build(path, IP_KEYS, () -> new IpFilterPolicyConfig(allow, deny));
    }

    private PolicyConfig securityHeaders(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, SECURITY_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        String preset = m.containsKey("preset") ? y.text(m.get("preset"), path + ".preset", "basic or strict", s -> s)
                : "basic";
        SecurityHeadersPolicyConfig.Builder b = preset == null ? null
                : y.convert(path + ".preset", () -> SecurityHeadersPolicyConfig.builder(preset));
        if (b == null) {
            return null;
        }
        if (m.containsKey("mode")) {
            String mode = y.text(m.get("mode"), path + ".mode", "set_if_absent or override", s -> s);
            if ("override".equals(mode)) {
                b.override(true);
            } else if (mode != null && !mode.equals("set_if_absent")) {
                y.problem(path + ".mode: expected set_if_absent or override, got \"" + mode + "\"");
            }
        }
        field(m, "content_security_policy", path, b::contentSecurityPolicy);
        field(m, "frame_options", path, b::frameOptions);
        field(m, "referrer_policy", path, b::referrerPolicy);
        field(m, "permissions_policy", path, b::permissionsPolicy);
        field(m, "content_type_options", path, b::contentTypeOptions);
        field(m, "cross_origin_opener_policy", path, b::crossOriginOpenerPolicy);
        if (m.containsKey("hsts")) {
            hsts(m.get("hsts"), path + ".hsts", b);
        }
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, SECURITY_KEYS, b::build);
    }

    /** A field's value; {@code false} or {@code ""} turns the field off. */
    private void field(Map<String, Object> m, String key, String path,
                       Function<String, SecurityHeadersPolicyConfig.Builder> setter) {
        if (!m.containsKey(key)) {
            return;
        }
        Object v = m.get(key);
        if (Boolean.FALSE.equals(v)) {
            setter.apply("");
        } else {
            String s = y.text(v, path + "." + key, "a field value (or false for none)", t -> t);
            if (s != null) {
                setter.apply(s);
            }
        }
    }

    private void hsts(Object node, String path, SecurityHeadersPolicyConfig.Builder b) {
        if (Boolean.FALSE.equals(node)) {
            b.hsts(Duration.ZERO, false, false);
            return;
        }
        Map<String, Object> m = y.mapping(node, path, HSTS_KEYS);
        if (m == null) {
            return;
        }
        Duration maxAge = m.containsKey("max_age") ? y.anyDuration(m.get("max_age"), path + ".max_age")
                : Duration.ofDays(365);
        Boolean sub = m.containsKey("include_subdomains")
                ? y.bool(m.get("include_subdomains"), path + ".include_subdomains") : Boolean.TRUE;
        Boolean preload = m.containsKey("preload") ? y.bool(m.get("preload"), path + ".preload") : Boolean.FALSE;
        if (maxAge != null && sub != null && preload != null) {
            b.hsts(maxAge, sub, preload);
        }
    }

    private PolicyConfig cors(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, CORS_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        List<String> origins = m.get("allow_origins") == null
                ? y.problem(path + ".allow_origins: is required")
                : strings(m.get("allow_origins"), path + ".allow_origins", "an origin", s -> s);
        List<String> methods = m.containsKey("allow_methods")
                ? strings(m.get("allow_methods"), path + ".allow_methods", "a method", s -> s)
                : CorsPolicyConfig.DEFAULT_METHODS;
        List<String> headers = m.containsKey("allow_headers")
                ? strings(m.get("allow_headers"), path + ".allow_headers", "a field name", s -> s) : List.of();
        List<String> expose = m.containsKey("expose_headers")
                ? strings(m.get("expose_headers"), path + ".expose_headers", "a field name", s -> s) : List.of();
        Duration maxAge = m.containsKey("max_age") ? y.anyDuration(m.get("max_age"), path + ".max_age")
                : Duration.ZERO;
        Boolean credentials = m.containsKey("allow_credentials")
                ? y.bool(m.get("allow_credentials"), path + ".allow_credentials") : Boolean.FALSE;
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, CORS_KEYS,
                () -> new CorsPolicyConfig(origins, methods, headers, expose, maxAge, credentials));
    }

    private String required(Map<String, Object> m, String key, String path, String expected) {
        if (m.get(key) == null) {
            return y.problem(path + "." + key + ": is required");
        }
        return y.text(m.get(key), path + "." + key, expected, s -> s);
    }

    private Integer status(Object node, String path) {
        if (node instanceof Integer i) {
            return i;
        }
        return y.problem(path + ": expected a status code, got " + YamlConfigLoader.describe(node));
    }

    private List<Cidr> cidrs(Object node, String path) {
        return strings(node, path, "a CIDR block such as 10.0.0.0/8", Cidr::parse);
    }

    /** A list of strings (a single string is a list of one), each converted. */
    private <T> List<T> strings(Object node, String path, String expected, Function<String, T> parser) {
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        List<T> result = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            String at = node instanceof List ? path + "[" + i + "]" : path;
            T value = y.text(list.get(i), at, expected, parser);
            ok &= value != null;
            result.add(value);
        }
        return ok ? result : null;
    }
}
