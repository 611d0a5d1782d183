package dev.portico.internal.cache;

import dev.portico.policy.RequestContext;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** What the cache does to stored fields: freshening from a 304, invalidation, what is never stored. */
final class Store304 {
    /** Not stored (RFC 9111 section 3.1: hop-by-hop) and never taken from a 304 (section 3.2). */
    private static final Set<String> EXCLUDED = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "transfer-encoding", "trailer", "upgrade", "cache-status");

    /** Fields a 304 does not change: they describe the stored body, which the 304 does not replace. */
    private static final List<String> NOT_UPDATED = List.of("content-length", "content-encoding", "content-md5",
            "content-range", "etag", "via");

    private Store304() {
    }

    /** Removes the fields a stored response does not keep. */
    static void stripForStorage(HttpHeaders h) {
        for (String connection : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String name : connection.split(",")) {
                if (!name.isBlank() && !name.trim().equalsIgnoreCase("content-length")) {
                    h.remove(name.trim());
                }
            }
        }
        for (String name : EXCLUDED) {
            h.remove(name);
        }
    }

    /** @return whether a declared Content-Length (if any) fits max_object_size */
    static boolean lengthFits(HttpHeaders h, long max) {
        String cl = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (cl == null) {
            return true;
        }
        try {
            return Long.parseLong(cl.trim()) <= max;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * RFC 9111 sections 3.2 and 4.3.4: the entry with the 304's fields in place of its own (but its framing), its
     * age and freshness computed anew from the 304.
     */
    static Entry freshen(Entry e, HttpHeaders notModified, long requestTime, long responseTime, boolean heuristic) {
        HttpHeaders h = new DefaultHttpHeaders().add(e.headers);
        h.remove(HttpHeaderNames.AGE); // the stored age is replaced by the 304's (or none)
        HttpHeaders n = new DefaultHttpHeaders().add(notModified);
        stripForStorage(n);
        for (String keep : NOT_UPDATED) {
            n.remove(keep);
        }
        for (String name : n.names()) {
            List<String> values = n.getAll(name);
            h.remove(name);
            for (String v : values) {
                h.add(name, v);
            }
        }
        return new Entry(e.key, e.host, e.pathAndQuery, e.vary, e.status, h, e.body, e.bodyLength, requestTime,
                responseTime, heuristic);
    }

    /**
     * RFC 9111 section 4.4: after a non-error response to an unsafe method, the target URI and the URIs in
     * {@code Location} and {@code Content-Location} of the same host are invalidated.
     */
    static void invalidate(CachePolicy p, RequestContext ctx, String key, dev.portico.policy.Headers response) {
        p.store.remove(key);
        for (String field : List.of("location", "content-location")) {
            String v = response.get(field);
            if (v == null) {
                continue;
            }
            try {
                URI base = URI.create(ctx.scheme() + "://" + (ctx.host().isEmpty() ? "localhost" : ctx.host())
                        + ctx.originalPath());
                URI u = base.resolve(v.trim());
                String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
                if (host.equals(ctx.host()) || u.getHost() == null) {
                    String pq = (u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath())
                            + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
                    p.store.remove(CachePolicy.key(ctx.scheme(), ctx.host(), pq));
                }
            } catch (IllegalArgumentException ignored) {
                // a URI that does not parse names nothing stored
            }
        }
    }
}
