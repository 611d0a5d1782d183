package dev.portico.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The YAML loader's part for the admin endpoint's protection: {@code admin.tls}, {@code admin.auth}, {@code insecure}. */
final class AdminConfigReader {
    private static final List<String> AUTH_KEYS = List.of("token_file", "users", "protect_metrics");

    private final YamlConfigLoader loader;

    AdminConfigReader(YamlConfigLoader loader) {
        this.loader = loader;
    }

    /**
     * @param admin the {@code admin} mapping
     * @return its protection settings, or {@code null} after reporting problems
     */
    AdminConfig read(Map<String, Object> admin) {
        int before = loader.problemCount();
        ListenerTlsConfig tls = admin.get("tls") == null ? null
                : loader.tlsReader().tls(admin.get("tls"), "admin.tls");
        AdminAuthConfig auth = admin.get("auth") == null ? null : auth(admin.get("auth"));
        Boolean insecure = admin.containsKey("insecure") ? loader.bool(admin.get("insecure"), "admin.insecure")
                : Boolean.FALSE;
        if (loader.problemCount() != before) {
            return null;
        }
        return new AdminConfig(tls, auth, insecure);
    }

    private AdminAuthConfig auth(Object node) {
        Map<String, Object> m = loader.mapping(node, "admin.auth", AUTH_KEYS);
        if (m == null) {
            return null;
        }
        int before = loader.problemCount();
        Path tokenFile = m.get("token_file") == null ? null
                : loader.tlsReader().file(m.get("token_file"), "admin.auth.token_file");
        String token = tokenFile == null ? null
                : loader.convert("admin.auth.token_file", () -> AdminAuthConfig.readToken(tokenFile));
        Map<String, String> users = new LinkedHashMap<>();
        if (m.get("users") != null) {
            Map<String, Object> u = m.get("users") instanceof Map ? loader.mapping(m.get("users"),
                    "admin.auth.users", List.copyOf(names(m.get("users")))) : null;
            if (u == null) {
                loader.problem("admin.auth.users: expected a mapping of user name to bcrypt or argon2id hash, got "
                        + YamlConfigLoader.describe(m.get("users")));
            } else {
                for (Map.Entry<String, Object> e : u.entrySet()) {
                    String hash = loader.text(e.getValue(), "admin.auth.users." + e.getKey(),
                            "a bcrypt or argon2id hash", s -> s);
                    String problem = hash == null ? null : AdminAuthConfig.hashProblem(hash);
                    if (problem != null) {
                        loader.problem("admin.auth.users." + e.getKey() + ": " + problem
                                + (AdminAuthConfig.isHash(hash) ? "" : " (quote it in YAML)"));
                    } else if (hash != null) {
                        users.put(e.getKey(), hash);
                    }
                }
            }
        }
        Boolean protect = m.containsKey("protect_metrics")
                ? loader.bool(m.get("protect_metrics"), "admin.auth.protect_metrics") : Boolean.FALSE;
        if (loader.problemCount() != before) {
            return null;
        }
        return loader.build("admin.auth", AUTH_KEYS, () -> new AdminAuthConfig(tokenFile, token, users, protect));
    }

    private static List<String> names(Object map) {
        return ((Map<?, ?>) map).keySet().stream().map(String::valueOf).toList();
    }
}
