package dev.portico.internal.server;

import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import io.netty.handler.codec.http.HttpMethod;

/**
 * A request-target split for routing (RFC 9112 section 3.2): origin-form {@code /path?query}, absolute-form
 * {@code http://authority/path?query} (whose authority replaces Host), or {@code *} for {@code OPTIONS}.
 *
 * @param authority the authority of an absolute-form target, or {@code null}
 * @param path the raw path, starting with {@code /} ({@code *} for asterisk-form)
 * @param query the raw query including its {@code ?}, or {@code ""}
 */
record RequestTarget(String authority, String path, String query) {

    /**
     * @param method the request method
     * @param uri the request-target as received
     * @return the parsed target
     * @throws ProxyFailure BAD_REQUEST for an invalid target (a non-OPTIONS asterisk-form included),
     *     NOT_IMPLEMENTED for CONNECT
     */
    static RequestTarget parse(HttpMethod method, String uri) {
        if (method.equals(HttpMethod.CONNECT)) {
            throw new ProxyFailure(Kind.NOT_IMPLEMENTED, "CONNECT is not supported");
        }
        boolean inQuery = false;
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            // RFC 3986 excludes more (e.g. "{", "|", "[" in a query), but clients send those unencoded and
            // no parser reads them differently; these are the ones that can mislead one.
            if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\') {
                throw new ProxyFailure(Kind.BAD_REQUEST, "invalid character in request target");
            }
            inQuery |= c == '?';
            // The path is decoded for dot-segments and routing, so its encoding must be sound; the query is
            // opaque to Portico and goes on byte for byte, as nginx and HAProxy forward it.
            if (c == '%' && !inQuery && (i + 2 >= uri.length() || !RequestValidator.isHex(uri.charAt(i + 1))
                    || !RequestValidator.isHex(uri.charAt(i + 2)))) {
                throw new ProxyFailure(Kind.BAD_REQUEST, "invalid percent-encoding in request path");
            }
        }
        if (uri.equals("*")) {
            if (!method.equals(HttpMethod.OPTIONS)) {
                // RFC 9112 section 3.2.4: asterisk-form is only for OPTIONS, so another method's is malformed.
                throw new ProxyFailure(Kind.BAD_REQUEST, "asterisk-form is only for OPTIONS");
            }
            return new RequestTarget(null, "*", "");
        }
        String authority = null;
        String rest = uri;
        if (!uri.startsWith("/")) {
            int schemeEnd = uri.indexOf("://");
            String scheme = schemeEnd > 0 ? uri.substring(0, schemeEnd) : "";
            if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
                throw new ProxyFailure(Kind.BAD_REQUEST, "invalid request target");
            }
            int start = schemeEnd + 3;
            int end = start;
            while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
                end++;
            }
            authority = uri.substring(start, end);
            if (!RequestValidator.validHost(authority)) {
                throw new ProxyFailure(Kind.BAD_REQUEST, "invalid authority in request target");
            }
            rest = end == uri.length() ? "/" : uri.charAt(end) == '?' ? "/" + uri.substring(end) : uri.substring(end);
        }
        int q = rest.indexOf('?');
        String path = q < 0 ? rest : rest.substring(0, q);
        if (hasDotSegment(path)) {
            // "/public/../admin" would leave its route's prefix at the backend: browsers resolve dot-segments
            // before sending (RFC 3986 section 5.2.4), so a target that still has one is refused, not rewritten.
            throw new ProxyFailure(Kind.BAD_REQUEST, "dot-segment in request path");
        }
        return q < 0 ? new RequestTarget(authority, rest, "") : new RequestTarget(authority, path, rest.substring(q));
    }

    /** Whether a segment of the path is "." or "..", also when written with %2e; allocates nothing. */
    static boolean hasDotSegment(String path) {
        int dots = 0;
        boolean onlyDots = true;
        for (int i = 1; i <= path.length(); i++) {
            char c = i < path.length() ? path.charAt(i) : '/';
            if (c == '/') {
                if (onlyDots && (dots == 1 || dots == 2)) {
                    return true;
                }
                dots = 0;
                onlyDots = true;
            } else if (c == '.') {
                dots++;
            } else if (c == '%' && i + 2 < path.length() && path.charAt(i + 1) == '2'
                    && (path.charAt(i + 2) == 'e' || path.charAt(i + 2) == 'E')) {
                dots++;
                i += 2;
            } else {
                onlyDots = false;
            }
        }
        return false;
    }

    /** @return the path the router matches: asterisk-form is routed as {@code /} */
    String routingPath() {
        return path.equals("*") ? "/" : path;
    }
}
