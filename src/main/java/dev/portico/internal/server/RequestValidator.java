package dev.portico.internal.server;

import dev.portico.config.LimitsConfig;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.route.Route;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;

/**
 * The checks on a request head that Netty's decoder leaves to its user (RFC 9110 and 9112): what passes here is
 * unambiguous to any HTTP parser behind the proxy.
 */
final class RequestValidator {
    private RequestValidator() {
    }

    /**
     * @param request a decoded request head
     * @param limits the limits: {@code max_headers}, {@code max_method_length}
     * @return the failure to answer with, or {@code null} if the head may be forwarded
     */
    static ProxyFailure check(HttpRequest request, LimitsConfig limits) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            return decoderFailure(result.cause());
        }
        if (request.method().name().length() > limits.maxMethodLength()) {
            // Not a method any backend implements (RFC 9110 section 9.1: 501 for an unrecognized method).
            return new ProxyFailure(Kind.NOT_IMPLEMENTED, "method longer than " + limits.maxMethodLength()
                    + " bytes");
        }
        int maxHeaders = limits.maxHeaders();
        HttpVersion v = request.protocolVersion();
        if (v.majorVersion() != 1) {
            return new ProxyFailure(Kind.VERSION_NOT_SUPPORTED, "HTTP version not supported");
        }
        HttpHeaders h = request.headers();
        if (h.size() > maxHeaders) {
            return new ProxyFailure(Kind.HEADERS_TOO_LARGE, "more than " + maxHeaders + " header fields");
        }
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return new ProxyFailure(Kind.BAD_REQUEST, "more than one Host header");
        }
        if (hosts.isEmpty() && v.minorVersion() >= 1) {
            return new ProxyFailure(Kind.BAD_REQUEST, "HTTP/1.1 request without Host");
        }
        if (!hosts.isEmpty() && !validHost(hosts.get(0))) {
            return new ProxyFailure(Kind.BAD_REQUEST, "invalid Host header");
        }
        if (h.contains(HttpHeaderNames.TRANSFER_ENCODING) && !onlyChunked(h.getAll(HttpHeaderNames.TRANSFER_ENCODING))) {
            // The decoder accepted it, so "chunked" is last: an unsupported coding is in front of it (RFC 9112
            // section 6.1 says 501; a final coding other than chunked was already a 400 from the decoder).
            return new ProxyFailure(Kind.NOT_IMPLEMENTED, "only the chunked transfer coding is supported");
        }
        return null;
    }

    /** Whether the field values, as a list (RFC 9110 section 5.6.1: empty elements ignored), are just "chunked". */
    static boolean onlyChunked(List<String> values) {
        int codings = 0;
        for (String value : values) {
            for (String element : value.split(",", -1)) {
                String coding = element.strip();
                if (coding.isEmpty()) {
                    continue;
                }
                if (++codings > 1 || !coding.equalsIgnoreCase("chunked")) {
                    return false;
                }
            }
        }
        return codings == 1;
    }

    static ProxyFailure decoderFailure(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new ProxyFailure(Kind.URI_TOO_LONG, "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new ProxyFailure(Kind.HEADERS_TOO_LARGE, "request header fields too large");
        }
        return new ProxyFailure(Kind.BAD_REQUEST, "malformed request");
    }

    /**
     * A Host is {@code uri-host [ ":" port ]} (RFC 9112 section 3.2, RFC 3986 section 3.2.2): a reg-name of
     * unreserved characters, sub-delims and percent-encodings, or an IP literal in brackets; the port, if any,
     * only digits.
     */
    static boolean validHost(String host) {
        int n = host.length();
        int end;
        if (n > 0 && host.charAt(0) == '[') {
            end = host.indexOf(']');
            if (end < 2) {
                return false;
            }
            for (int i = 1; i < end; i++) {
                char c = host.charAt(i);
                if (!(isHex(c) || c == ':' || c == '.')) {
                    return false;
                }
            }
            end++;
        } else {
            end = 0;
            while (end < n && host.charAt(end) != ':') {
                char c = host.charAt(end);
                if (c == '%') {
                    if (end + 2 >= n || !isHex(host.charAt(end + 1)) || !isHex(host.charAt(end + 2))) {
                        return false;
                    }
                    end += 2;
                } else if (!isRegNameChar(c)) {
                    return false;
                }
                end++;
            }
            if (end == 0) {
                return false;
            }
        }
        if (end == n) {
            return true;
        }
        if (host.charAt(end) != ':') {
            return false;
        }
        for (int i = end + 1; i < n; i++) {
            if (host.charAt(i) < '0' || host.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isRegNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~!$&'()*+,;=".indexOf(c) >= 0;
    }

    static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /**
     * The checks between routing and forwarding, the same for HTTP/1.1 and HTTP/2: a route must match, a declared
     * body must fit its limit, and the only expectation is {@code 100-continue}.
     *
     * @param route the matched route, or {@code null}
     * @param request the request head
     * @return why the request is refused, or {@code null} to forward it
     */
    static ProxyFailure admit(Route route, HttpRequest request) {
        if (route == null) {
            return new ProxyFailure(Kind.NO_ROUTE, "no route for this host and path");
        }
        long limit = route.maxRequestBody();
        if (limit > 0 && HttpUtil.getContentLength(request, 0L) > limit) {
            return new ProxyFailure(Kind.REQUEST_TOO_LARGE, "request body over " + limit + " bytes");
        }
        String expect = request.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null && !expect.trim().equalsIgnoreCase("100-continue")) {
            return new ProxyFailure(Kind.EXPECTATION_FAILED, "unsupported expectation");
        }
        return null;
    }
}
