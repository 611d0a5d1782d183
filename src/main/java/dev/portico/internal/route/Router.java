package dev.portico.internal.route;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The immutable routing table. Routes naming a host that matches the request's Host are considered before routes
 * for any host; among them the longest path prefix wins, an exact host before a wildcard on equal length.
 */
public final class Router {
    private final Map<String, PrefixTable> exactHosts = new HashMap<>();
    /** Keyed by the suffix including its leading dot: {@code *.example.com} is stored as {@code .example.com}. */
    private final Map<String, PrefixTable> wildcardHosts = new HashMap<>();
    private final PrefixTable anyHost = new PrefixTable();

    /**
     * @param routes the routes; no two may share host and path (the config model guarantees it)
     */
    public Router(List<Route> routes) {
        for (Route r : routes) {
            String host = r.config().host();
            PrefixTable table;
            if (host.isEmpty()) {
                table = anyHost;
            } else if (host.startsWith("*.")) {
                table = wildcardHosts.computeIfAbsent(host.substring(1), k -> new PrefixTable());
            } else {
                table = exactHosts.computeIfAbsent(host, k -> new PrefixTable());
            }
            table.put(r.config().path(), r);
        }
    }

    /**
     * Finds the route for a request.
     *
     * @param host the request's Host (any case, port allowed), or {@code null} if it has none
     * @param path the request's raw path, starting with {@code /}
     * @return the route, or {@code null} if none matches
     */
    public Route find(String host, String path) {
        String name = host == null ? "" : hostName(host);
        Route best = null;
        if (!name.isEmpty()) {
            PrefixTable exact = exactHosts.get(name);
            if (exact != null) {
                best = exact.find(path);
            }
            if (!wildcardHosts.isEmpty()) {
                // A name with an empty label (".example.com") is no subdomain of anything: no wildcard matches it.
                for (int dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) {
                    PrefixTable wild = wildcardHosts.get(name.substring(dot));
                    Route r = wild == null ? null : wild.find(path);
                    if (r != null && (best == null || r.config().path().length() > best.config().path().length())) {
                        best = r;
                    }
                }
            }
        }
        return best != null ? best : anyHost.find(path);
    }

    /** Strips the port and lower-cases: {@code Example.COM:8080} is {@code example.com}, {@code [::1]:80} is {@code [::1]}. */
    static String hostName(String host) {
        int end = host.length();
        int colon = host.lastIndexOf(':');
        if (colon >= 0 && host.indexOf(']', colon) < 0) {
            end = colon;
        }
        String name = host.substring(0, end);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name.toLowerCase(Locale.ROOT);
    }

    /**
     * Path prefixes of one host table; matching walks the request path's segment boundaries, longest first, and
     * probes the map only for candidate lengths some prefix has, so a lookup costs about one probe whatever the
     * number of routes.
     */
    private static final class PrefixTable {
        private final Map<String, Route> byPrefix = new HashMap<>();
        private final BitSet lengths = new BitSet();
        private Route root;

        void put(String prefix, Route route) {
            if (prefix.equals("/")) {
                root = route;
            } else {
                byPrefix.put(prefix, route);
                lengths.set(prefix.length());
            }
        }

        Route find(String path) {
            if (!byPrefix.isEmpty()) {
                if (lengths.get(path.length())) {
                    Route r = byPrefix.get(path);
                    if (r != null) {
                        return r;
                    }
                }
                for (int slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
                    if (lengths.get(slash)) {
                        Route r = byPrefix.get(path.substring(0, slash));
                        if (r != null) {
                            return r;
                        }
                    }
                }
            }
            return root;
        }
    }
}
