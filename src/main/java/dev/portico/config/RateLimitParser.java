package dev.portico.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the {@code redis:} section and {@code rate_limit} policies for {@link YamlConfigLoader}, reporting to its
 * problem list with key paths such as {@code policies.NAME.rate_limit.rate}.
 */
final class RateLimitParser {
    private static final List<String> REDIS_KEYS = List.of("url", "password_file", "timeout");
    private static final List<String> KEYS = List.of("key", "rate", "burst", "store", "on_store_failure", "headers",
            "lease");

    private final YamlConfigLoader y;

    RateLimitParser(YamlConfigLoader loader) {
        this.y = loader;
    }

    /** The {@code redis:} section, or null when absent or broken (a problem is reported for the latter). */
    RedisConfig redis(Object node, Path baseDir) {
        if (node == null) {
            return null;
        }
        Map<String, Object> m = y.mapping(node, "redis", REDIS_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        RedisConfig.Builder b = m.get("url") == null ? y.problem("redis.url: is required (redis://host:port/db)")
                : y.text(m.get("url"), "redis.url", "a redis:// or rediss:// URL", RedisConfig::builder);
        Duration timeout = m.containsKey("timeout") ? y.positiveDuration(m.get("timeout"), "redis.timeout")
                : RedisConfig.DEFAULT_TIMEOUT;
        String password = m.containsKey("password_file") ? y.text(m.get("password_file"), "redis.password_file",
                "a file name", f -> readPassword(baseDir.resolve(f))) : null;
        if (b == null || y.problemCount() != before) {
            return null;
        }
        b.timeout(timeout);
        if (password != null) {
            b.password(password);
        }
        return y.build("redis", REDIS_KEYS, b::build);
    }

    private static String readPassword(Path file) {
        try {
            String text = Files.readString(file);
            int eol = text.indexOf('\n');
            String line = (eol < 0 ? text : text.substring(0, eol)).strip();
            if (line.isEmpty()) {
                throw new IllegalArgumentException("\"" + file + "\" is empty");
            }
            return line;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read \"" + file + "\": " + YamlConfigLoader.reason(e));
        }
    }

    /**
     * @param node the policy's settings
     * @param path the key path, {@code policies.NAME.rate_limit} or {@code ...policies[j].rate_limit}
     * @param redisConfigured whether the document has a {@code redis:} section
     * @return the policy, or null after reporting
     */
    RateLimitPolicyConfig policy(Object node, String path, boolean redisConfigured) {
        Map<String, Object> m = y.mapping(node, path, KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        RateLimitPolicyConfig.Builder b = m.get("rate") == null
                ? y.problem(path + ".rate: is required (N/s, N/m or N/h)")
                : y.text(m.get("rate"), path + ".rate", "N/s, N/m or N/h", RateLimitPolicyConfig::builder);
        if (b == null) {
            return null;
        }
        b.name(path.startsWith("policies.") ? path.substring(9, path.lastIndexOf('.'))
                : RateLimitPolicyConfig.DEFAULT_NAME);
        List<String> key = keys(m.get("key"), path + ".key");
        if (key != null) {
            b.key(key.toArray(new String[0]));
        }
        if (m.containsKey("burst")) {
            Long burst = positive(m.get("burst"), path + ".burst");
            if (burst != null) {
                b.burst(burst);
            }
        }
        if (m.containsKey("lease")) {
            Long lease = positive(m.get("lease"), path + ".lease");
            if (lease != null) {
                b.lease(lease);
            }
        }
        RateLimitPolicyConfig.Store store = choice(m, "store", path, RateLimitPolicyConfig.Store.class);
        if (store != null) {
            b.store(store);
            if (store == RateLimitPolicyConfig.Store.REDIS && !redisConfigured) {
                y.problem(path + ".store: redis needs the top-level redis: section (redis.url)");
            }
        }
        RateLimitPolicyConfig.OnStoreFailure onFailure = choice(m, "on_store_failure", path,
                RateLimitPolicyConfig.OnStoreFailure.class);
        if (onFailure != null) {
            b.onStoreFailure(onFailure);
        }
        RateLimitPolicyConfig.HeaderStyle headers = choice(m, "headers", path,
                RateLimitPolicyConfig.HeaderStyle.class);
        if (headers != null) {
            b.headers(headers);
        }
        if (y.problemCount() != before) {
            return null;
        }
        return y.build(path, KEYS, b::build);
    }

    /** One key part or a list of them. */
    private List<String> keys(Object node, String path) {
        if (node == null) {
            return null;
        }
        List<?> list = node instanceof List<?> l ? l : List.of(node);
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = node instanceof List ? path + "[" + i + "]" : path;
            String k = y.text(list.get(i), at, "client_ip, header:NAME, route or jwt_claim:NAME",
                    RateLimitPolicyConfig::checkKey);
            if (k == null) {
                return null;
            }
            result.add(k);
        }
        if (result.isEmpty()) {
            return y.problem(path + ": expected at least one key part");
        }
        return result;
    }

    private Long positive(Object node, String path) {
        Long n = y.count(node, path);
        if (n != null && n < 1) {
            return y.problem(path + ": must be at least 1, got " + n);
        }
        return n;
    }

    /** An enum constant by its lower-case name; null when the key is absent or (after reporting) unknown. */
    private <E extends Enum<E>> E choice(Map<String, Object> m, String key, String path, Class<E> type) {
        if (!m.containsKey(key)) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        String expected = "one of " + String.join(", ", names);
        String v = y.text(m.get(key), path + "." + key, expected, s -> s);
        if (v == null) {
            return null;
        }
        int i = names.indexOf(v);
        return i < 0 ? y.problem(path + "." + key + ": expected " + expected + ", got \"" + v + "\"")
                : type.getEnumConstants()[i];
    }
}
