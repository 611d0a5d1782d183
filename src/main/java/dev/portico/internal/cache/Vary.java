package dev.portico.internal.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** RFC 9111 section 4.1: the request fields a response varies on, and their normalized values. */
final class Vary {
    private Vary() {
    }

    /** @return the request's values of every field the response's {@code Vary} names */
    static Map<String, String> capture(HttpHeaders response, HttpHeaders request) {
        List<String> lines = response.getAll(HttpHeaderNames.VARY);
        if (lines.isEmpty()) {
            return Map.of();
        }
        Map<String, String> m = new HashMap<>();
        for (String line : lines) {
            for (String name : line.split(",")) {
                String n = name.trim().toLowerCase(Locale.ROOT);
                if (!n.isEmpty()) {
                    m.put(n, normalized(request, n));
                }
            }
        }
        return m;
    }

    /**
     * Combines the field's lines into one value and collapses whitespace around commas, as RFC 9111 section 4.1
     * allows; {@code null} if the field is absent.
     */
    static String normalized(HttpHeaders request, String name) {
        List<String> values = request.getAll(name);
        if (values.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (String v : values) {
            for (String part : v.split(",")) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(part.trim());
            }
        }
        return sb.toString();
    }
}
