package dev.portico.internal.ops;

import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.internal.metrics.RouteMetrics;
import dev.portico.internal.server.ProxyRuntime;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The dashboard's state, sampled once a second off the event loops: rows of routes and of endpoints keyed by a
 * stable id, and sections (listeners, certificates, last reload, configuration, policy decisions, caches) as
 * JSON. Each sample yields the whole state and the delta from the previous one: changed rows, removed row ids and
 * changed sections (a section is sent again only when its text changed). Used by the sampling thread alone.
 */
final class DashboardModel {
    /** Samples of the totals kept for the page's overview chart: five minutes at one a second. */
    static final int HISTORY = 300;

    private final ProxyRuntime runtime;
    private final Supplier<Operations.LastReload> lastReload;
    private final Certificates certificates;
    private final RouteRates rates = new RouteRates();
    private final PolicyPanel policies;
    private final CachePanel caches = new CachePanel();
    private Map<String, String> routes = Map.of();
    private Map<String, String> endpoints = Map.of();
    private final Map<String, String> sections = new LinkedHashMap<>();
    private final ArrayDeque<String> history = new ArrayDeque<>();
    private ProxyConfig sectionsOf;

    DashboardModel(ProxyRuntime runtime, Supplier<Operations.LastReload> lastReload, Certificates certificates) {
        this.runtime = runtime;
        this.lastReload = lastReload;
        this.certificates = certificates;
        this.policies = new PolicyPanel(runtime.metrics());
    }

    /** The whole state and the delta from the previous sample, both JSON objects. */
    record Sample(String full, String delta) {
    }

    Sample sample() {
        long nanos = System.nanoTime();
        long now = System.currentTimeMillis();
        List<RouteMetrics> meters = runtime.routeMeters();
        RouteRates.Rate[] r = rates.sample(meters, nanos);
        Map<String, String> nextRoutes = new LinkedHashMap<>(meters.size() * 2);
        long[] all = new long[r.length == 0 ? 1 : r[0].buckets().length];
        double rps = 0;
        double e4 = 0;
        double e5 = 0;
        double bps = 0;
        for (int i = 0; i < r.length; i++) {
            RouteMetrics m = meters.get(i);
            RouteRates.Rate x = r[i];
            StringBuilder sb = new StringBuilder(128).append("{\"o\":").append(i).append(",\"n\":");
            ConfigJson.string(sb, m.route());
            sb.append(",\"u\":");
            ConfigJson.string(sb, m.upstream());
            sb.append(",\"rps\":").append(RouteRates.num(x.rps(), 1)).append(",\"e4\":")
                    .append(RouteRates.num(x.share4xx() * 100, 1)).append(",\"e5\":")
                    .append(RouteRates.num(x.share5xx() * 100, 1)).append(",\"p50\":")
                    .append(RouteRates.num(x.p50(), 1)).append(",\"p99\":").append(RouteRates.num(x.p99(), 1))
                    .append(",\"bps\":").append(RouteRates.num(x.bytesPerSecond(), 0)).append('}');
            nextRoutes.put(m.route() + " " + m.upstream(), sb.toString());
            rps += x.rps();
            e4 += x.share4xx() * x.rps();
            e5 += x.share5xx() * x.rps();
            bps += x.bytesPerSecond();
            for (int b = 0; b < all.length; b++) {
                all[b] += x.buckets()[b];
            }
        }
        String totals = "[" + now + "," + RouteRates.num(rps, 1) + "," + RouteRates.num(rps == 0 ? 0 : e4 / rps * 100, 1)
                + "," + RouteRates.num(rps == 0 ? 0 : e5 / rps * 100, 1) + ","
                + RouteRates.num(RouteRates.quantile(all, 0.5), 1) + ","
                + RouteRates.num(RouteRates.quantile(all, 0.99), 1) + "," + RouteRates.num(bps, 0) + "]";
        history.addLast(totals);
        if (history.size() > HISTORY) {
            history.removeFirst();
        }
        Map<String, String> nextEndpoints = endpoints(now, nanos);
        Map<String, String> changedSections = sections(now, nanos);

        StringBuilder full = new StringBuilder(256 * (nextRoutes.size() + 4)).append("{\"t\":").append(now);
        rows(full, "routes", nextRoutes, null);
        rows(full, "endpoints", nextEndpoints, null);
        full.append(",\"sections\":{");
        appendSections(full, sections);
        full.append("},\"totals\":").append(totals).append(",\"history\":[").append(String.join(",", history))
                .append("]}");
        StringBuilder delta = new StringBuilder(1024).append("{\"t\":").append(now);
        rows(delta, "routes", nextRoutes, routes);
        rows(delta, "endpoints", nextEndpoints, endpoints);
        delta.append(",\"sections\":{");
        appendSections(delta, changedSections);
        delta.append("},\"totals\":").append(totals).append('}');
        routes = nextRoutes;
        endpoints = nextEndpoints;
        return new Sample(full.toString(), delta.toString());
    }

    /** Writes {@code "name":{id:row...}} with the rows that differ from {@code before} (all if null), and gone ids. */
    private static void rows(StringBuilder sb, String name, Map<String, String> now, Map<String, String> before) {
        sb.append(",\"").append(name).append("\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : now.entrySet()) {
            if (before != null && e.getValue().equals(before.get(e.getKey()))) {
                continue;
            }
            if (!first) {
                sb.append(',');
            }
            first = false;
            ConfigJson.string(sb, e.getKey());
            sb.append(':').append(e.getValue());
        }
        sb.append("},\"").append(name).append("Gone\":[");
        first = true;
        if (before != null) {
            for (String k : before.keySet()) {
                if (!now.containsKey(k)) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    ConfigJson.string(sb, k);
                }
            }
        }
        sb.append(']');
    }

    private Map<String, String> endpoints(long now, long nanos) {
        Map<String, String> out = new LinkedHashMap<>();
        int order = 0;
        for (UpstreamGroup g : runtime.upstreams()) {
            boolean checked = g.config().healthCheck() != null;
            for (Endpoint e : g.endpoints()) {
                StringBuilder sb = new StringBuilder(160).append("{\"o\":").append(order++).append(",\"g\":");
                ConfigJson.string(sb, g.name());
                sb.append(",\"a\":");
                ConfigJson.string(sb, e.text());
                long until = e.ejectedUntil();
                boolean ejected = e.ejected(nanos);
                sb.append(",\"chk\":").append(checked).append(",\"h\":").append(e.healthy())
                        .append(",\"x\":").append(ejected).append(",\"xu\":")
                        .append(ejected ? now + (until - nanos) / 1_000_000 : 0)
                        .append(",\"f\":").append(e.inFlight()).append(",\"c\":").append(e.connections())
                        .append(",\"i\":").append(e.idleConnections()).append(",\"w\":").append(e.waiting());
                Endpoint.Failure f = e.lastFailure();
                if (f != null) {
                    sb.append(",\"lf\":");
                    ConfigJson.string(sb, f.reason());
                    sb.append(",\"lt\":").append(f.atMillis());
                }
                out.put(g.name() + " " + e.text(), sb.append('}').toString());
            }
        }
        return out;
    }

    /** Updates the sections and returns those that changed. */
    private Map<String, String> sections(long now, long nanos) {
        Map<String, String> next = new LinkedHashMap<>();
        ProxyConfig config = runtime.config();
        if (config != sectionsOf) {
            next.put("config", ConfigJson.of(config));
            sectionsOf = config;
        }
        StringBuilder l = new StringBuilder("[");
        List<InetSocketAddress> bound = runtime.boundAddresses();
        for (int i = 0; i < config.listen().size(); i++) {
            ListenerConfig c = config.listen().get(i);
            if (i > 0) {
                l.append(',');
            }
            l.append("{\"key\":\"listen[").append(i).append("]\",\"address\":");
            ConfigJson.string(l, c.address().toString());
            l.append(",\"bound\":");
            ConfigJson.string(l, i < bound.size() ? bound.get(i).getAddress().getHostAddress() + ":"
                    + bound.get(i).getPort() : "");
            l.append(",\"tls\":").append(c.tls() != null).append(",\"h2c\":").append(c.address().h2c())
                    .append(",\"redirect\":").append(c.redirectHttps()).append('}');
        }
        next.put("listeners", l.append(']').toString());
        next.put("certificates", certificates.json(config, now));
        Operations.LastReload r = lastReload.get();
        next.put("reload", r == null ? "null" : r.json());
        next.put("policies", policies.json(nanos));
        next.put("cache", caches.json(config, runtime.caches(), nanos));
        Map<String, String> changed = new LinkedHashMap<>();
        next.forEach((k, v) -> {
            if (!v.equals(sections.get(k))) {
                changed.put(k, v);
                sections.put(k, v);
            }
        });
        return changed;
    }

    private static void appendSections(StringBuilder sb, Map<String, String> m) {
        boolean first = true;
        for (Map.Entry<String, String> e : m.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append('"').append(e.getKey()).append("\":").append(e.getValue());
        }
    }
}
