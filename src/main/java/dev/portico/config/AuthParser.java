package dev.portico.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code basic_auth} and {@code jwt} policies for {@link PoliciesParser}. File names are resolved against
 * the configuration file's directory and read now, so a problem with a file is a problem of the configuration.
 */
final class AuthParser {
    static final List<String> BASIC_KEYS = List.of("realm", "users", "users_file", "remove_credentials");
    static final List<String> JWT_KEYS = List.of("jwks_url", "jwks_file", "key", "secret_file", "issuer",
            "audiences", "algorithms", "required_claims", "leeway", "token_from", "forward_claims", "jwks_timeout");

    private final YamlConfigLoader y;

    AuthParser(YamlConfigLoader loader) {
        this.y = loader;
    }

    PolicyConfig basicAuth(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, BASIC_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        String realm = m.containsKey("realm") ? y.text(m.get("realm"), path + ".realm", "text", s -> s)
                : BasicAuthPolicyConfig.DEFAULT_REALM;
        Map<String, String> users = m.containsKey("users") ? users(m.get("users"), path + ".users") : Map.of();
        FileContent file = m.containsKey("users_file") ? file(m.get("users_file"), path + ".users_file") : null;
        Boolean remove = m.containsKey("remove_credentials")
                ? y.bool(m.get("remove_credentials"), path + ".remove_credentials") : Boolean.FALSE;
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, BASIC_KEYS, () -> new BasicAuthPolicyConfig(realm, users, file, remove));
    }

    private Map<String, String> users(Object node, String path) {
        if (!(node instanceof Map<?, ?> map)) {
            return y.problem(path + ": expected a mapping of user name to password hash, got "
                    + YamlConfigLoader.describe(node));
        }
        Map<String, String> users = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String user = String.valueOf(e.getKey());
            String hash = y.text(e.getValue(), path + "." + user, "a bcrypt or argon2id hash", s -> s);
            if (hash != null) {
                users.put(user, hash);
            }
        }
        return users.size() == map.size() ? users : null;
    }

    PolicyConfig jwt(Object node, String path) {
        Map<String, Object> m = y.mapping(node, path, JWT_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        URI url = m.containsKey("jwks_url") ? y.text(m.get("jwks_url"), path + ".jwks_url", "an http(s) URL",
                URI::create) : null;
        FileContent jwks = m.containsKey("jwks_file") ? file(m.get("jwks_file"), path + ".jwks_file") : null;
        FileContent key = m.containsKey("key") ? file(m.get("key"), path + ".key") : null;
        FileContent secret = m.containsKey("secret_file") ? file(m.get("secret_file"), path + ".secret_file") : null;
        String issuer = m.containsKey("issuer") ? y.text(m.get("issuer"), path + ".issuer", "text", s -> s) : "";
        List<String> audiences = strings(m.get("audiences"), path + ".audiences");
        List<String> algorithms = strings(m.get("algorithms"), path + ".algorithms");
        List<String> required = strings(m.get("required_claims"), path + ".required_claims");
        Duration leeway = m.containsKey("leeway") ? y.anyDuration(m.get("leeway"), path + ".leeway")
                : JwtPolicyConfig.DEFAULT_LEEWAY;
        Duration timeout = m.containsKey("jwks_timeout")
                ? y.positiveDuration(m.get("jwks_timeout"), path + ".jwks_timeout")
                : JwtPolicyConfig.DEFAULT_JWKS_TIMEOUT;
        String from = m.containsKey("token_from")
                ? y.text(m.get("token_from"), path + ".token_from", "header:NAME, cookie:NAME or query:NAME", s -> s)
                : JwtPolicyConfig.DEFAULT_TOKEN_FROM;
        Map<String, String> forward = forwardClaims(m.get("forward_claims"), path + ".forward_claims");
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, JWT_KEYS, () -> new JwtPolicyConfig(url, jwks, key, secret, issuer, audiences,
                algorithms, required, leeway, from, forward, timeout));
    }

    private Map<String, String> forwardClaims(Object node, String path) {
        if (node == null) {
            return Map.of();
        }
        if (!(node instanceof Map<?, ?> map)) {
            return y.problem(path + ": expected a mapping of claim name to header name, got "
                    + YamlConfigLoader.describe(node));
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String claim = String.valueOf(e.getKey());
            String header = y.text(e.getValue(), path + "." + claim, "a header name", HeaderField::fieldName);
            if (header != null) {
                result.put(claim, header);
            }
        }
        return result.size() == map.size() ? result : null;
    }

    /** A list of strings; a single string is a list of one, nothing an empty list. */
    private List<String> strings(Object node, String path) {
        if (node == null) {
            return List.of();
        }
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String s = y.text(list.get(i), node instanceof List ? path + "[" + i + "]" : path, "text", t -> t);
            if (s == null) {
                return null;
            }
            result.add(s);
        }
        return result;
    }

    /** A file name, resolved against the configuration's directory and read. */
    private FileContent file(Object node, String path) {
        Path file = y.text(node, path, "a file name", s -> {
            if (s.isBlank()) {
                throw new IllegalArgumentException("file name is empty");
            }
            return y.baseDir.resolve(s);
        });
        return file == null ? null : y.convert(path, () -> FileContent.read(file));
    }
}
