package dev.portico.internal.proxy;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.ssl.SslHandler;

/**
 * A WebSocket handshake to an HTTP/2 backend: an extended CONNECT (RFC 8441 section 4) on the try's stream, which
 * Portico writes as a HEADERS frame itself (Netty's HTTP/1.1-to-HTTP/2 conversion knows no {@code :protocol} and
 * would make a CONNECT an authority-form request). The backend must have sent
 * {@code SETTINGS_ENABLE_CONNECT_PROTOCOL = 1} (section 3); without it nothing is sent at all, not even as a plain
 * GET, since such a backend would answer an ordinary 200 that opens nothing. A {@code 200} opens the tunnel; any
 * other 2xx is not a WebSocket the client can use (the frontend's rule: RFC 8441 section 5 has only 2xx open one,
 * and Portico forwards 200 alone), and any other status is an ordinary response.
 */
final class ExtendedConnect {
    private static final String PROTOCOL = ":protocol";

    private ExtendedConnect() {
    }

    /**
     * @param upstream the rewritten upstream head of a WebSocket upgrade (its headers are not changed)
     * @param stream the try's HTTP/2 stream
     * @return the extended CONNECT, without END_STREAM: {@code :method CONNECT}, {@code :protocol websocket},
     *     {@code :scheme}, {@code :path}, {@code :authority} (the upstream {@code Host}),
     *     {@code sec-websocket-version: 13} and the end-to-end fields (subprotocol, extensions, origin, forwarded
     *     fields); no {@code Upgrade}, {@code Connection} or {@code Sec-WebSocket-Key} (section 5)
     */
    static Http2HeadersFrame frame(HttpRequest upstream, Channel stream) {
        HttpHeaders h = upstream.headers();
        boolean tls = stream.parent() != null && stream.parent().pipeline().get(SslHandler.class) != null;
        Http2Headers out = new DefaultHttp2Headers().method("CONNECT").set(PROTOCOL, WebSocketUpgrade.WEBSOCKET)
                .scheme(tls ? "https" : "http").path(upstream.uri()).authority(h.get(HttpHeaderNames.HOST));
        // Lower-cased names; connection-specific fields (Connection, Upgrade, Host, TE but trailers...) dropped.
        out.add(HttpConversionUtil.toHttp2Headers(h, true));
        out.remove(HttpHeaderNames.TE);
        out.remove(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        out.remove(HttpHeaderNames.CONTENT_LENGTH);
        for (HttpConversionUtil.ExtensionHeaderNames x : HttpConversionUtil.ExtensionHeaderNames.values()) {
            out.remove(x.text());
        }
        out.set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
        return new DefaultHttp2HeadersFrame(out, false);
    }

    /**
     * @param response the backend's answer to the extended CONNECT
     * @return whether it opens the tunnel
     */
    static boolean opens(HttpResponse response) {
        return response.status().code() == HttpResponseStatus.OK.code();
    }

    /**
     * The backend's 200 in the form {@link Tunnel#open} forwards: for an HTTP/1.1 client, whose handshake the
     * backend never saw, a 101 head with the {@code Sec-WebSocket-Accept} that answers the client's own key
     * (RFC 6455 section 4.2.2) and {@code Upgrade: websocket}; for an HTTP/2 client the 200 as it is.
     *
     * @param response the backend's 200 (its headers are taken over)
     * @param clientKey the HTTP/1.1 client's {@code Sec-WebSocket-Key}, or {@code null} for an HTTP/2 client
     * @return the head {@link Tunnel#open} turns into the client's answer
     */
    static HttpResponse asSwitch(HttpResponse response, String clientKey) {
        HttpHeaders h = response.headers();
        h.remove(HttpHeaderNames.TRANSFER_ENCODING); // Netty's conversion marks a head without END_STREAM chunked
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (clientKey != null) {
            h.set(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, WebSocketUpgrade.acceptFor(clientKey));
            h.set(HttpHeaderNames.UPGRADE, WebSocketUpgrade.WEBSOCKET);
            response.setStatus(HttpResponseStatus.SWITCHING_PROTOCOLS);
        }
        return response;
    }
}
