package dev.portico.internal.server;

import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.proxy.WebSocketUpgrade;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;

/**
 * The checks on an HTTP/2 request head (RFC 9113 section 8.3) before it becomes an HTTP/1.1 request: the method,
 * scheme and path pseudo-header fields present and well-formed (a token, no space or control character in the
 * path; CONNECT is not proxied: 501), {@code :authority} or else exactly one {@code Host} naming a valid host,
 * and no more fields than {@code limits.max_headers}. The one CONNECT that is served is RFC 8441's extended CONNECT
 * with {@code :protocol websocket} (the listener sends SETTINGS_ENABLE_CONNECT_PROTOCOL): it passes the same checks
 * as a GET to its {@code :path} and goes on as that GET, its stream marked as a tunnel. Another {@code :protocol}
 * is 501, as plain CONNECT: the request is well-formed (section 4 lets a client name any registered upgrade token),
 * Portico just does not tunnel that protocol. {@code :protocol} on another method is malformed: 400.
 * {@code :authority} wins over {@code Host}, which is dropped (section 8.3.1). A failed check is answered on its
 * stream, and the stream's further frames are dropped; the connection and its other streams go on. Netty's decoder has already
 * reset streams with syntactically malformed fields (upper-case names, connection-specific fields, a {@code TE}
 * other than {@code trailers}, pseudo-fields out of place) with PROTOCOL_ERROR, as section 8.1.1 prescribes.
 */
final class Http2RequestCheck {
    private static final AsciiString PROTOCOL = Http2Headers.PseudoHeaderName.PROTOCOL.value();

    private Http2RequestCheck() {
    }

    /**
     * @param frame a stream's first HEADERS frame; {@code Host} is removed when {@code :authority} is present
     * @param maxHeaders {@code limits.max_headers}
     * @return the failure to answer the stream with, or {@code null}
     */
    static ProxyFailure check(Http2HeadersFrame frame, int maxHeaders) {
        ProxyFailure failure = check(frame.headers(), maxHeaders);
        if (failure == null && isConnect(frame.headers()) && frame.isEndStream()) {
            failure = new ProxyFailure(Kind.BAD_REQUEST, "a WebSocket's extended CONNECT ended its stream");
        }
        return failure;
    }

    /**
     * The request head as HTTP/1.1 objects, converted here once rather than by the stream codec behind: the same
     * fields (Netty's conversion), but a head that ends its stream comes as a full request with no content buffer
     * allocated, and a head with a body to follow gets {@code Transfer-Encoding: chunked} unless it has a length,
     * as Netty's stream codec does.
     */
    static HttpRequest toHttp(Http2HeadersFrame frame) throws Http2Exception {
        int id = frame.stream() == null ? 0 : frame.stream().id();
        HttpRequest head = HttpConversionUtil.toHttpRequest(id, frame.headers(), true);
        if (frame.isEndStream()) {
            return new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(), Unpooled.EMPTY_BUFFER,
                    head.headers(), EmptyHttpHeaders.INSTANCE);
        }
        if (!HttpUtil.isContentLengthSet(head)) {
            head.headers().add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return head;
    }

    /**
     * @param frame a HEADERS frame after the head, with END_STREAM
     * @return the trailers as the end of an HTTP/1.1 body, as Netty's stream codec converts them
     * @throws Http2Exception if a field cannot be converted
     */
    static LastHttpContent trailers(Http2HeadersFrame frame) throws Http2Exception {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, true);
        int id = frame.stream() == null ? 0 : frame.stream().id();
        HttpConversionUtil.addHttp2ToHttpHeaders(id, frame.headers(), last.trailingHeaders(), HttpVersion.HTTP_1_1,
                true, true);
        return last;
    }

    /**
     * @param h a request's header fields; {@code Host} is removed when {@code :authority} is present
     * @param maxHeaders {@code limits.max_headers}
     * @return the failure to answer with, or {@code null}
     */
    static ProxyFailure check(Http2Headers h, int maxHeaders) {
        CharSequence method = h.method();
        if (method == null) {
            return new ProxyFailure(Kind.BAD_REQUEST, "no :method");
        }
        if (!isToken(method)) {
            return new ProxyFailure(Kind.BAD_REQUEST, "invalid :method");
        }
        CharSequence protocol = h.get(PROTOCOL);
        if (isConnect(h)) {
            if (protocol == null) {
                return new ProxyFailure(Kind.NOT_IMPLEMENTED, "CONNECT is not supported");
            }
            if (!WebSocketUpgrade.WEBSOCKET.equalsIgnoreCase(protocol.toString())) {
                return new ProxyFailure(Kind.NOT_IMPLEMENTED, "extended CONNECT is supported for websocket only");
            }
        } else if (protocol != null) {
            return new ProxyFailure(Kind.BAD_REQUEST, ":protocol without CONNECT"); // RFC 8441 section 4
        }
        CharSequence scheme = h.scheme();
        if (scheme == null || !("http".contentEquals(scheme) || "https".contentEquals(scheme))) {
            return new ProxyFailure(Kind.BAD_REQUEST, "missing or unknown :scheme");
        }
        CharSequence path = h.path();
        if (path == null || path.length() == 0) {
            return new ProxyFailure(Kind.BAD_REQUEST, "missing :path");
        }
        if (path.charAt(0) != '/' && !"*".contentEquals(path)) {
            return new ProxyFailure(Kind.BAD_REQUEST, ":path not in origin or asterisk form");
        }
        if (!isVisibleAscii(path)) {
            return new ProxyFailure(Kind.BAD_REQUEST, "invalid character in :path");
        }
        // The pseudo-fields (four, five with :protocol) are not header fields in HTTP/1.1 terms.
        if (h.size() > maxHeaders + (protocol == null ? 4 : 5)) {
            return new ProxyFailure(Kind.HEADERS_TOO_LARGE, "more than " + maxHeaders + " header fields");
        }
        CharSequence authority = h.authority();
        if (authority != null) {
            h.remove(HttpHeaderNames.HOST);
            return RequestValidator.validHost(authority.toString()) ? null
                    : new ProxyFailure(Kind.BAD_REQUEST, "invalid :authority");
        }
        if (h.getAll(HttpHeaderNames.HOST).size() != 1) {
            return new ProxyFailure(Kind.BAD_REQUEST, "neither :authority nor exactly one Host");
        }
        return RequestValidator.validHost(h.get(HttpHeaderNames.HOST).toString()) ? null
                : new ProxyFailure(Kind.BAD_REQUEST, "invalid Host header");
    }

    static boolean isConnect(Http2Headers h) {
        return h.method() != null && "CONNECT".contentEquals(h.method());
    }

    /** An extended CONNECT that passed the checks goes on as a GET to its path (RFC 8441 section 5). */
    static void asGet(Http2Headers h) {
        h.method(HttpMethod.GET.asciiName());
        h.remove(PROTOCOL);
    }

    /** A request line could not carry a space or a control character either (RFC 9112 section 3). */
    private static boolean isVisibleAscii(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 section 5.6.2: token = 1*tchar. */
    private static boolean isToken(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean alnum = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
            if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }
}
