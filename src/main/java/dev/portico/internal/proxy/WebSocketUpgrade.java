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
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one protocol upgrade Portico forwards: WebSocket (RFC 6455 section 4). A request qualifies when it is a
 * bodiless HTTP/1.1 GET whose {@code Connection} lists {@code upgrade}, whose {@code Upgrade} lists
 * {@code websocket}, and which carries one {@code Sec-WebSocket-Key} and a {@code Sec-WebSocket-Version} (the
 * handshake's fields, section 4.1); it is forwarded with {@code Upgrade: websocket} and {@code Connection: upgrade}. Any other
 * upgrade token is refused by dropping the header (RFC 9110 section 7.8 lets a server ignore {@code Upgrade}), so
 * such a request is served as plain HTTP/1.1, as nginx does by default.
 *
 * <p>Over HTTP/2 a client asks with an extended CONNECT (RFC 8441): the stream's request check turns it into a GET, and
 * {@link #handshake} adds the fields of an HTTP/1.1 handshake that RFC 8441 section 5 leaves out (Portico is the
 * WebSocket client of the backend then); the backend's 101 becomes a {@code 200} on the stream
 * ({@link #streamResponse}), after which the stream's DATA frames carry the bytes. An HTTP/2 backend gets neither
 * handshake but an extended CONNECT ({@link ExtendedConnect}).
 */
public final class WebSocketUpgrade {
    /** The upgrade token forwarded. */
    public static final String WEBSOCKET = "websocket";
    private static final String HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

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
     * Adds the handshake fields an extended CONNECT does without: a fresh {@code Sec-WebSocket-Key} (a client's own,
     * which RFC 8441 section 5 says is not used, is replaced) and {@code Sec-WebSocket-Version: 13}.
     * {@code Sec-WebSocket-Protocol} and {@code -Extensions} are end-to-end fields and already carried over.
     *
     * @param upstream the head to send the backend, after {@link #forward}
     * @return the key sent, which the backend's {@code Sec-WebSocket-Accept} must answer (see {@link #accepted})
     */
    public static String handshake(HttpRequest upstream) {
        byte[] nonce = new byte[16]; // RFC 6455 section 4.1: a random 16-byte value, base64-encoded
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        upstream.headers().set(HttpHeaderNames.SEC_WEBSOCKET_KEY, key);
        upstream.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
        return key;
    }

    /** @return the {@code Sec-WebSocket-Accept} that answers {@code key} (RFC 6455 section 4.2.2) */
    static String acceptFor(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest((key + HANDSHAKE_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }

    /**
     * @param upstream the backend's 101 to a handshake made for an extended CONNECT
     * @return the stream's answer: {@code :status 200} with the backend's end-to-end fields (the chosen
     *     subprotocol and extensions) and {@code Via}, without END_STREAM; the HTTP/1.1 handshake's own fields
     *     ({@code Sec-WebSocket-Accept}, the upgrade) stay behind
     */
    static Http2HeadersFrame streamResponse(HttpResponse upstream) {
        HttpHeaders h = upstream.headers();
        String via = h.contains(HttpHeaderNames.VIA) ? String.join(", ", h.getAll(HttpHeaderNames.VIA)) + ", "
                + HeaderRewriter.VIA : HeaderRewriter.VIA;
        HeaderRewriter.removeHopByHop(h);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        h.set(HttpHeaderNames.VIA, via);
        Http2Headers out = new DefaultHttp2Headers().status(HttpResponseStatus.OK.codeAsText());
        out.add(HttpConversionUtil.toHttp2Headers(h, true)); // lower-cased names, connection fields dropped
        return new DefaultHttp2HeadersFrame(out, false);
    }

    /**
     * @param response a backend's response to a forwarded upgrade
     * @return whether it switches to WebSocket (a 101 naming {@code websocket}); a 101 to anything else is a
     *     protocol the client did not ask for
     */
    static boolean accepted(HttpResponse response) {
        return accepted(response, null);
    }

    /**
     * @param response a backend's response to a forwarded upgrade
     * @param key the {@code Sec-WebSocket-Key} Portico made ({@link #handshake}), whose answer it checks as the
     *     handshake's client (RFC 6455 section 4.1); {@code null} when the client made it and checks it itself
     * @return whether it switches to WebSocket with the right accept value for Portico's key
     */
    static boolean accepted(HttpResponse response, String key) {
        return response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()
                && response.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && (key == null || acceptFor(key).equals(response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT)));
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
