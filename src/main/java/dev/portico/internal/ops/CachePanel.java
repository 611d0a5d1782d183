package dev.portico.internal.ops;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.PolicyConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.internal.cache.CachePolicy;
import dev.portico.internal.cache.CacheStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's cache section, read from the live cache policies ({@link CachePolicy#stats()}: counters and two
 * sizes kept as the store changes): per cache, the routes it serves, hits and misses since start and per second
 * over the window, the hit ratio over the window and overall, stale entries served, evictions, bytes stored
 * against {@code max_size}, and entries; and the same summed over every cache. {@code null} when the running
 * configuration has no cache, which hides the panel and its purge form. Used by the sampling thread alone.
 */
final class CachePanel {
    /** Route labels named per cache; the rest are counted. */
    static final int ROUTES_NAMED = 3;
    private static final int HITS = 0;
    private static final int MISSES = 1;
    private static final int STALE = 2;
    private static final int EVICTIONS = 3;

    private final CounterWindow<Object> window = new CounterWindow<>();
    private ProxyConfig routesOf;
    /** The labels of the routes each cache setting serves, in configuration order. */
    private Map<CachePolicyConfig, List<String>> routes = Map.of();

    /**
     * @param config the running configuration
     * @param caches its live cache policies
     * @param nanos now, from {@link System#nanoTime()}
     * @return the section as JSON, or {@code "null"} without a cache
     */
    String json(ProxyConfig config, List<CachePolicy> caches, long nanos) {
        if (caches.isEmpty()) {
            window.sample(Map.of(), nanos);
            return "null";
        }
        if (config != routesOf) {
            routes = routes(config);
            routesOf = config;
        }
        List<CachePolicy> ordered = new ArrayList<>(caches);
        List<String> none = List.of();
        List<CachePolicyConfig> order = new ArrayList<>(routes.keySet());
        ordered.sort(Comparator.comparingInt(c -> {
            int i = order.indexOf(c.config());
            return i < 0 ? Integer.MAX_VALUE : i;
        }));
        Map<Object, long[]> counts = new LinkedHashMap<>();
        Map<CachePolicy, CacheStats> stats = new HashMap<>();
        long[] sum = new long[4];
        long bytes = 0;
        long entries = 0;
        long max = 0;
        for (CachePolicy c : ordered) {
            CacheStats s = c.stats();
            stats.put(c, s);
            long[] n = {s.hits(), s.misses(), s.staleServed(), s.evictions()};
            counts.put(c, n);
            for (int i = 0; i < n.length; i++) {
                sum[i] += n[i];
            }
            bytes += s.bytes();
            entries += s.entries();
            max += c.config().maxSize();
        }
        counts.put(this, sum); // the panel itself stands for the sum of every cache
        Map<Object, CounterWindow.Change> changes = window.sample(counts, nanos);
        StringBuilder sb = new StringBuilder(256).append("{\"c\":[");
        boolean first = true;
        for (CachePolicy c : ordered) {
            first = PolicyPanel.comma(sb, first);
            List<String> r = routes.getOrDefault(c.config(), none);
            sb.append("{\"r\":[");
            for (int i = 0; i < Math.min(r.size(), ROUTES_NAMED); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                ConfigJson.string(sb, r.get(i));
            }
            sb.append("],\"rn\":").append(r.size()).append(',');
            CacheStats s = stats.get(c);
            numbers(sb, changes.get(c), s.bytes(), s.entries(), c.config().maxSize());
            sb.append('}');
        }
        sb.append("],\"all\":{");
        numbers(sb, changes.get(this), bytes, entries, max);
        return sb.append("}}").toString();
    }

    private static void numbers(StringBuilder sb, CounterWindow.Change c, long bytes, long entries, long max) {
        long[] n = c.now();
        long[] g = c.grew();
        sb.append("\"h\":").append(n[HITS]).append(",\"m\":").append(n[MISSES])
                .append(",\"hs\":").append(RouteRates.num(c.rate(HITS), 1))
                .append(",\"ms\":").append(RouteRates.num(c.rate(MISSES), 1))
                .append(",\"hr\":").append(ratio(g[HITS], g[MISSES]))
                .append(",\"or\":").append(ratio(n[HITS], n[MISSES]))
                .append(",\"st\":").append(n[STALE]).append(",\"ev\":").append(n[EVICTIONS])
                .append(",\"b\":").append(bytes).append(",\"max\":").append(max).append(",\"n\":").append(entries);
    }

    /** @return hits in percent of lookups, one decimal, or {@code null} without lookups */
    static String ratio(long hits, long misses) {
        return hits + misses == 0 ? "null" : RouteRates.num(100.0 * hits / (hits + misses), 1);
    }

    private static Map<CachePolicyConfig, List<String>> routes(ProxyConfig config) {
        Map<CachePolicyConfig, List<String>> out = new LinkedHashMap<>();
        for (RouteConfig r : config.routes()) {
            List<PolicyConfig> chain = new ArrayList<>();
            if (!r.skipDefaultPolicies()) {
                chain.addAll(config.policies().defaults());
            }
            chain.addAll(r.policies());
            String label = r.host().isEmpty() ? r.path() : r.host() + r.path();
            for (PolicyConfig p : chain) {
                if (p instanceof CachePolicyConfig c) {
                    List<String> labels = out.computeIfAbsent(c, k -> new ArrayList<>());
                    if (labels.isEmpty() || !labels.get(labels.size() - 1).equals(label)) { // twice on a chain
                        labels.add(label);
                    }
                }
            }
        }
        return out;
    }
}
