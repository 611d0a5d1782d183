package dev.portico.internal.ops;

import dev.portico.internal.cache.CachePolicy;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * {@code POST /cache/purge}: removes cache entries by {@code {"host": ..., "path_prefix": ...}} (either may be
 * left out, not both), or one URL, given as {@code {"url": ...}} or as the body itself. Answers how many entries
 * went, over every cache policy of the running configuration.
 */
final class CachePurge {
    private CachePurge() {
    }

    /**
     * @param body the request body
     * @param caches the live cache policies
     * @return the answer's JSON
     * @throws IllegalArgumentException naming what is wrong with the body
     */
    static String purge(String body, List<CachePolicy> caches) {
        Object doc;
        try {
            doc = body.isBlank() ? null : new Load(LoadSettings.builder().build()).loadFromString(body);
        } catch (YamlEngineException e) {
            throw new IllegalArgumentException("not JSON");
        }
        int n = 0;
        if (doc instanceof String url) {
            n = purgeUrl(url, caches);
        } else if (doc instanceof Map<?, ?> m && m.get("url") instanceof String url && m.size() == 1) {
            n = purgeUrl(url, caches);
        } else if (doc instanceof Map<?, ?> m && !m.isEmpty() && !m.containsKey("url")) {
            for (Object k : m.keySet()) {
                if (!"host".equals(k) && !"path_prefix".equals(k) || !(m.get(k) instanceof String)) {
                    throw new IllegalArgumentException("expected string fields host and path_prefix, or url");
                }
            }
            String host = (String) m.get("host");
            String prefix = (String) m.get("path_prefix");
            for (CachePolicy c : caches) {
                n += c.purge(host == null ? null : host.toLowerCase(Locale.ROOT), prefix);
            }
        } else {
            throw new IllegalArgumentException("expected {\"host\": ..., \"path_prefix\": ...} or {\"url\": ...}");
        }
        return "{\"purged\":" + n + "}";
    }

    private static int purgeUrl(String url, List<CachePolicy> caches) {
        URI u;
        try {
            u = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a URL: " + url);
        }
        if (u.getScheme() == null || u.getHost() == null) {
            throw new IllegalArgumentException("not an absolute http(s) URL: " + url);
        }
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        String pq = path + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        int n = 0;
        for (CachePolicy c : caches) {
            n += c.purgeUrl(u.getScheme().toLowerCase(Locale.ROOT), u.getHost().toLowerCase(Locale.ROOT), pq);
        }
        return n;
    }
}
