package dev.portico.internal.proxy;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The one protocol upgrade Portico forwards: WebSocket (RFC 6455 section 4). A request qualifies when it is a
 * bodiless HTTP/1.1 GET whose {@code Connection} lists {@code upgrade}, whose {@code Upgrade} lists
 * {@code websocket}, and which carries one {@code Sec-WebSocket-Key} and a {@code Sec-WebSocket-Version} (the
 * handshake's fields, section 4.1); it is forwarded with {@code Upgrade: websocket} and {@code Connection: upgrade}. Any other
 * upgrade token is refused by dropping the header (RFC 9110 section 7.8 lets a server ignore {@code Upgrade}), so
 * such a request is served as plain HTTP/1.1, as nginx does by default.
 */
public final class WebSocketUpgrade {
    /** The upgrade token forwarded. */
    public static final String WEBSOCKET = "websocket";

    private WebSocketUpgrade() {
    }

    /**
     * Call before the headers are rewritten (the rewrite drops {@code Upgrade} and {@code Connection}).
     *
     * @param request a validated client request head
     * @return whether it asks for a WebSocket upgrade Portico forwards
     */
    public static boolean requested(HttpRequest request) {
        HttpHeaders h = request.headers();
        return request.method().equals(HttpMethod.GET)
                && request.protocolVersion().equals(HttpVersion.HTTP_1_1)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && h.getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY).size() == 1
                && h.contains(HttpHeaderNames.SEC_WEBSOCKET_VERSION)
                && !HttpUtil.isTransferEncodingChunked(request)
                && HttpUtil.getContentLength(request, 0L) == 0;
    }

    /**
     * Puts the upgrade back on a rewritten upstream head.
     *
     * @param upstream the head to send the backend
     */
    public static void forward(HttpRequest upstream) {
        upstream.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        upstream.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }

    /**
     * @param response a backend's response to a forwarded upgrade
     * @return whether it switches to WebSocket (a 101 naming {@code websocket}); a 101 to anything else is a
     *     protocol the client did not ask for
     */
    static boolean accepted(HttpResponse response) {
        return response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()
                && response.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    /**
     * @param upstream the backend's 101
     * @return the 101 to send the client: the backend's end-to-end fields ({@code Sec-WebSocket-Accept}, ...), the
     *     upgrade, and {@code Via}; no framing fields, as a 101 has no body. Takes over the backend head's headers.
     */
    static HttpResponse clientResponse(HttpResponse upstream) {
        HttpHeaders h = upstream.headers();
        String via = h.contains(HttpHeaderNames.VIA) ? String.join(", ", h.getAll(HttpHeaderNames.VIA)) + ", "
                + HeaderRewriter.VIA : HeaderRewriter.VIA;
        HeaderRewriter.removeHopByHop(h);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        h.set(HttpHeaderNames.VIA, via);
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS, h);
    }
}
