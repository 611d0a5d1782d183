package dev.portico.server;

import dev.portico.proxy.ProxyFailure;
import dev.portico.proxy.ProxyFailure.Kind;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
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
     * @param maxHeaders the most header fields allowed ({@code limits.max_headers})
     * @return the failure to answer with, or {@code null} if the head may be forwarded
     */
    static ProxyFailure check(HttpRequest request, int maxHeaders) {
        DecoderResult result = request.decoderResult();
        if (result.isFailure()) {
            return decoderFailure(result.cause());
        }
        HttpVersion v = request.protocolVersion();
        if (v.majorVersion() != 1 || (v.minorVersion() != 0 && v.minorVersion() != 1)) {
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
        if (hosts.isEmpty() && v.minorVersion() == 1) {
            return new ProxyFailure(Kind.BAD_REQUEST, "HTTP/1.1 request without Host");
        }
        if (!hosts.isEmpty() && !validHost(hosts.get(0))) {
            return new ProxyFailure(Kind.BAD_REQUEST, "invalid Host header");
        }
        List<String> codings = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            if (codings.size() > 1 || !codings.get(0).trim().equalsIgnoreCase("chunked")) {
                // The decoder accepted it, so "chunked" is last: another coding is in front of it.
                return new ProxyFailure(Kind.NOT_IMPLEMENTED, "only the chunked transfer coding is supported");
            }
        }
        return null;
    }

    static ProxyFailure decoderFailure(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new ProxyFailure(Kind.URI_TOO_LONG, "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new ProxyFailure(Kind.HEADERS_TOO_LARGE, "request header fields too large");
        }
        String msg = String.valueOf(cause.getMessage());
        if (msg.startsWith("The final transfer coding must be chunked")) {
            return new ProxyFailure(Kind.NOT_IMPLEMENTED, "only the chunked transfer coding is supported");
        }
        return new ProxyFailure(Kind.BAD_REQUEST, "malformed request");
    }

    /** A Host is {@code uri-host [ ":" port ]}: no spaces, controls, user info, path or empty name. */
    static boolean validHost(String host) {
        if (host.isEmpty()) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#' || c == '\\') {
                return false;
            }
        }
        return true;
    }
}
