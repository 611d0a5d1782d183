package dev.portico.internal.cache;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Date;
import java.util.List;

/**
 * The rules of RFC 9111 for a shared cache as pure functions of messages and clock readings (milliseconds since the
 * epoch): what may be stored (section 3), how long it is fresh (4.2.1, 4.2.2) and how old it is (4.2.3).
 */
final class Freshness {
    /** Heuristic freshness is capped at one day (RFC 9111 section 4.2.2 suggests a cap; a day is common). */
    static final long HEURISTIC_CAP_SECONDS = 86_400;
    private static final long MAX_SECONDS = 1L << 31;
    /** The token this cache announces in {@code Surrogate-Capability} and answers to in {@code Surrogate-Control}. */
    static final String SURROGATE = "portico";

    private Freshness() {
    }

    /** @return whether a response with this status may get heuristic freshness (RFC 9110 section 15.1) */
    static boolean heuristicallyCacheable(int status) {
        return switch (status) {
            case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501 -> true;
            default -> false;
        };
    }

    /**
     * RFC 9111 section 3: whether a shared cache may store the response to a GET.
     *
     * @param status the response status
     * @param request the request's fields
     * @param req the request's {@code Cache-Control}
     * @param response the response's fields
     * @param res the response's {@code Cache-Control}
     * @return whether it may be stored
     */
    static boolean storable(int status, HttpHeaders request, CacheControl req, HttpHeaders response,
                            CacheControl res) {
        if (status < 200 || status == 206 || status == 304) {
            return false; // not final, or partial content (only full responses are stored), or a 304
        }
        if (req.has("no-store")) {
            return false;
        }
        CacheControl sc = surrogate(response);
        if (sc.has("no-store")) {
            return false;
        }
        if (sc.seconds("max-age") >= 0) {
            return !varyStar(response); // Surrogate-Control speaks to this cache over Cache-Control
        }
        if (res.has("no-store") || res.has("private")) {
            return false;
        }
        if (res.has("must-understand") && !understood(status)) {
            return false;
        }
        if (request.contains(HttpHeaderNames.AUTHORIZATION) && !res.has("public") && !res.has("s-maxage")
                && !res.has("must-revalidate")) {
            return false;
        }
        if (varyStar(response)) {
            return false; // it could never be used: no request matches "*"
        }
        return res.has("public") || res.has("max-age") || res.has("s-maxage")
                || response.contains(HttpHeaderNames.EXPIRES) || heuristicallyCacheable(status);
    }

    private static boolean understood(int status) {
        return heuristicallyCacheable(status) || status == 302 || status == 303 || status == 307;
    }

    static CacheControl surrogate(HttpHeaders response) {
        return CacheControl.surrogate(response.getAll("surrogate-control"), SURROGATE);
    }

    static boolean varyStar(HttpHeaders response) {
        for (String v : response.getAll(HttpHeaderNames.VARY)) {
            for (String name : v.split(",")) {
                if (name.trim().equals("*")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * RFC 9111 sections 4.2.1 and 4.2.2: the freshness lifetime in seconds.
     *
     * @param status the response status
     * @param response the response's fields
     * @param res its {@code Cache-Control}
     * @param responseTime when it was received, used when it has no valid {@code Date}
     * @param heuristic whether heuristic freshness may be used
     * @return the lifetime in seconds, 0 when the response is stale from the start
     */
    static long lifetime(int status, HttpHeaders response, CacheControl res, long responseTime, boolean heuristic) {
        long sc = surrogate(response).seconds("max-age");
        if (sc >= 0) {
            return sc;
        }
        long s = res.seconds("s-maxage");
        if (s != -1) {
            return Math.max(0, s);
        }
        long m = res.seconds("max-age");
        if (m != -1) {
            return Math.max(0, m);
        }
        long date = dateValue(response, responseTime);
        List<String> expires = response.getAll(HttpHeaderNames.EXPIRES);
        if (!expires.isEmpty()) {
            Date e = expires.size() == 1 ? DateFormatter.parseHttpDate(expires.get(0)) : null;
            return e == null ? 0 : Math.max(0, (e.getTime() - date) / 1000);
        }
        if (heuristic && (heuristicallyCacheable(status) || res.has("public"))) {
            String lm = response.get(HttpHeaderNames.LAST_MODIFIED);
            Date modified = lm == null ? null : DateFormatter.parseHttpDate(lm);
            if (modified != null && modified.getTime() < date) {
                return Math.min(HEURISTIC_CAP_SECONDS, (date - modified.getTime()) / 10_000);
            }
        }
        return 0;
    }

    /** @return the response's {@code Date} in milliseconds, or {@code fallback} if it has no valid one */
    static long dateValue(HttpHeaders response, long fallback) {
        String d = response.get(HttpHeaderNames.DATE);
        Date date = d == null ? null : DateFormatter.parseHttpDate(d);
        return date == null ? fallback : date.getTime();
    }

    /**
     * RFC 9111 section 5.1: the {@code Age} value in seconds. A value that is not one non-negative integer (a
     * list, two lines, a sign, a fraction, a parameter) makes the response stale: an age it cannot be sure of is
     * taken as the largest, the safe side for a shared cache.
     *
     * @param response the response's fields
     * @return the age it states
     */
    static long ageValue(HttpHeaders response) {
        List<String> lines = response.getAll(HttpHeaderNames.AGE);
        if (lines.isEmpty()) {
            return 0;
        }
        String v = lines.get(0).trim();
        if (lines.size() > 1 || v.isEmpty()) {
            return MAX_SECONDS;
        }
        long n = 0;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return MAX_SECONDS;
            }
            n = Math.min(n * 10 + (c - '0'), MAX_SECONDS);
        }
        return n;
    }

    /**
     * RFC 9111 section 4.2.3: the corrected initial age of a response, in seconds.
     *
     * @param response its fields
     * @param requestTime when the request that brought it was sent
     * @param responseTime when it arrived
     * @return the age it had on arrival
     */
    static long initialAge(HttpHeaders response, long requestTime, long responseTime) {
        long apparent = Math.max(0, (responseTime - dateValue(response, responseTime)) / 1000);
        long corrected = ageValue(response) + Math.max(0, (responseTime - requestTime) / 1000);
        return Math.max(apparent, corrected);
    }

    /**
     * @param initialAge the corrected initial age in seconds
     * @param responseTime when the response arrived
     * @param now the time now
     * @return the current age in seconds
     */
    static long currentAge(long initialAge, long responseTime, long now) {
        return Math.min(MAX_SECONDS, initialAge + Math.max(0, (now - responseTime) / 1000));
    }
}
