package dev.portico.internal.policy;

import dev.portico.policy.RequestContext;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.List;

/** Finds a bearer token where a {@code jwt} policy's {@code token_from} says: a header, a cookie or the query. */
final class TokenLocator {
    private final String kind;
    private final String name;

    TokenLocator(String kind, String name) {
        this.kind = kind;
        this.name = name;
    }

    /**
     * @param r the request
     * @return the token, {@code ""} for a token place that is present but empty, or {@code null} if the request
     *     carries none (for {@code Authorization}: no field, or another scheme than {@code Bearer})
     */
    String find(RequestContext r) {
        switch (kind) {
            case "header": {
                String v = r.headers().get(name);
                if (v == null) {
                    return null;
                }
                boolean bearer = v.regionMatches(true, 0, "Bearer", 0, 6)
                        && (v.length() == 6 || v.charAt(6) == ' ');
                if (bearer) {
                    return v.substring(6).strip();
                }
                return name.equalsIgnoreCase("Authorization") ? null : v.strip();
            }
            case "cookie": {
                for (String header : r.headers().getAll("Cookie")) {
                    for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
                        if (c.name().equals(name)) {
                            return c.value();
                        }
                    }
                }
                return null;
            }
            default: {
                if (r.query().isEmpty()) {
                    return null;
                }
                List<String> values = new QueryStringDecoder("/" + r.query()).parameters().get(name);
                return values == null || values.isEmpty() ? null : values.get(0);
            }
        }
    }
}
