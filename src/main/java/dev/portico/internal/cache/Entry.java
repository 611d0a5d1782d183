package dev.portico.internal.cache;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Map;

/**
 * A stored response: immutable (freshening makes a new entry sharing the body). The body's chunks are never
 * changed after the entry is made, so a response built on them can be written while the entry is evicted.
 */
final class Entry {
    /** Per-entry bookkeeping counted against max_size besides fields and body. */
    static final int OVERHEAD = 256;

    final String key;
    final String host;
    final String pathAndQuery;
    /** The request's values of the fields the response varies on (normalized), by lower-case name; null: absent. */
    final Map<String, String> vary;
    final int status;
    final HttpHeaders headers;
    final CacheControl cc;
    final byte[][] body;
    final long bodyLength;
    final long responseTime;
    final long initialAge;
    final long lifetime;
    final long size;

    Entry(String key, String host, String pathAndQuery, Map<String, String> vary, int status, HttpHeaders headers,
          byte[][] body, long bodyLength, long requestTime, long responseTime, boolean heuristic) {
        this.key = key;
        this.host = host;
        this.pathAndQuery = pathAndQuery;
        this.vary = vary;
        this.status = status;
        this.headers = headers;
        this.cc = CacheControl.parse(headers.getAll("cache-control"));
        this.body = body;
        this.bodyLength = bodyLength;
        this.responseTime = responseTime;
        this.initialAge = Freshness.initialAge(headers, requestTime, responseTime);
        this.lifetime = Freshness.lifetime(status, headers, cc, responseTime, heuristic);
        long s = OVERHEAD + bodyLength + key.length();
        for (Map.Entry<String, String> h : headers) {
            s += h.getKey().length() + h.getValue().length() + 4;
        }
        this.size = s;
    }

    long age(long now) {
        return Freshness.currentAge(initialAge, responseTime, now);
    }

    /** @return seconds past its freshness lifetime (negative while fresh) */
    long staleness(long now) {
        return age(now) - lifetime;
    }

    boolean hasValidator() {
        return headers.contains("etag") || headers.contains("last-modified");
    }

    /** @return whether a request with these field values may be answered with this entry (RFC 9111 4.1) */
    boolean matches(HttpHeaders request) {
        for (Map.Entry<String, String> v : vary.entrySet()) {
            String now = Vary.normalized(request, v.getKey());
            if (!java.util.Objects.equals(now, v.getValue())) {
                return false;
            }
        }
        return true;
    }

    static List<String> names(Map<String, String> vary) {
        return List.copyOf(vary.keySet());
    }
}
