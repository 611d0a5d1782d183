package dev.portico.proxy;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Builds the heads Portico forwards: hop-by-hop fields removed both ways (RFC 9110 section 7.6.1), the
 * {@code X-Forwarded-*} and {@code Via} fields added to requests. Framing ({@code Content-Length} or chunked) is
 * decided here and re-done by the codec, never copied blindly.
 */
public final class HeaderRewriter {
    /** The {@code Via} entry Portico appends. */
    public static final String VIA = "1.1 portico";
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTP = AsciiString.cached("http");

    private HeaderRewriter() {
    }

    /**
     * The request head to send upstream.
     *
     * @param client the client's request head (validated)
     * @param target the origin-form target for the backend
     * @param host the Host to send: the client's, or for absolute-form the target's authority, or the backend's
     *     authority when the client sent none (HTTP/1.0)
     * @param clientIp the client's address, appended to {@code X-Forwarded-For}
     * @param forwardedHost the client's Host as sent, or {@code null}
     * @return a new request head, HTTP/1.1, keep-alive. It takes over the client head's header object, which is
     *     rewritten in place (copying every field per request would cost more than the rest of the rewrite), so
     *     read what is needed from the client's headers, such as keep-alive, before calling this.
     */
    public static HttpRequest upstreamRequest(HttpRequest client, String target, String host, String clientIp,
                                              String forwardedHost) {
        HttpHeaders h = client.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(client);
        String forwardedFor = append(h, X_FORWARDED_FOR, clientIp);
        String via = append(h, HttpHeaderNames.VIA, VIA);
        HttpRequest out = new DefaultHttpRequest(HttpVersion.HTTP_1_1, client.method(), target, h);
        removeHopByHop(h);
        h.remove(HttpHeaderNames.EXPECT);
        if (!host.equals(h.get(HttpHeaderNames.HOST))) {
            h.set(HttpHeaderNames.HOST, host);
        }
        if (chunked) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        h.set(X_FORWARDED_FOR, forwardedFor);
        h.set(X_FORWARDED_PROTO, HTTP);
        if (forwardedHost != null) {
            h.set(X_FORWARDED_HOST, forwardedHost);
        } else {
            h.remove(X_FORWARDED_HOST);
        }
        h.set(HttpHeaderNames.VIA, via);
        return out;
    }

    /**
     * The response head to send the client.
     *
     * @param upstream the backend's response head
     * @param clientVersion the client's HTTP version
     * @param bodiless whether this response has no body (HEAD, 204, 304)
     * @param keepAlive whether the client connection stays open after this response
     * @return a new response head; its framing is Content-Length if the backend gave one, else chunked for an
     *     HTTP/1.1 client, else close-delimited. Like {@link #upstreamRequest}, it takes over and rewrites the
     *     backend head's header object.
     */
    public static HttpResponse clientResponse(HttpResponse upstream, HttpVersion clientVersion, boolean bodiless,
                                              boolean keepAlive) {
        boolean upstreamChunked = HttpUtil.isTransferEncodingChunked(upstream);
        HttpHeaders h = upstream.headers();
        String via = append(h, HttpHeaderNames.VIA, VIA);
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, upstream.status(), h);
        removeHopByHop(h);
        h.set(HttpHeaderNames.VIA, via);
        boolean hasLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        if (!hasLength && clientVersion.equals(HttpVersion.HTTP_1_1) && (upstreamChunked || !bodiless)) {
            HttpUtil.setTransferEncodingChunked(out, true);
        }
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (clientVersion.equals(HttpVersion.HTTP_1_0)) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return out;
    }

    /**
     * Whether the client may keep its connection after a response with these headers: the length must be known
     * to an HTTP/1.0 client, which cannot read chunked.
     */
    static boolean framingAllowsKeepAlive(HttpResponse upstream, HttpVersion clientVersion, boolean bodiless) {
        return bodiless || clientVersion.equals(HttpVersion.HTTP_1_1)
                || upstream.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
    }

    /**
     * Removes {@code Connection}, every field it names, and the other hop-by-hop fields. A message cannot name its
     * own framing or Host as hop-by-hop: dropping {@code Content-Length} would send the body unframed, and the
     * backend would read it as another request.
     */
    static void removeHopByHop(HttpHeaders h) {
        if (!h.contains(HttpHeaderNames.CONNECTION)) {
            removeFixedHopByHop(h);
            return;
        }
        for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String name = token.trim();
                if (!name.isEmpty() && !name.equalsIgnoreCase("content-length") && !name.equalsIgnoreCase("host")) {
                    h.remove(name);
                }
            }
        }
        h.remove(HttpHeaderNames.CONNECTION);
        removeFixedHopByHop(h);
    }

    private static void removeFixedHopByHop(HttpHeaders h) {
        // One pass over the fields usually finds none of these: cheaper than six hashed lookups per message.
        Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
        boolean found = false;
        while (!found && it.hasNext()) {
            found = isFixedHopByHop(it.next().getKey());
        }
        if (!found) {
            return;
        }
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(HttpHeaderNames.PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRAILER);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
    }

    static boolean isFixedHopByHop(CharSequence name) {
        switch (name.length()) {
            case 2:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TE);
            case 7:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRAILER)
                        || AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.UPGRADE);
            case 10:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.KEEP_ALIVE);
            case 16:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_CONNECTION);
            case 17:
                return AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING);
            default:
                return false;
        }
    }

    /** The field's values joined with {@code value} appended; no list is built when the field is absent. */
    private static String append(HttpHeaders h, CharSequence name, String value) {
        return h.contains(name) ? appendList(h.getAll(name), value) : value;
    }

    private static String appendList(List<String> existing, String value) {
        if (existing.isEmpty()) {
            return value;
        }
        StringBuilder sb = new StringBuilder();
        for (String e : existing) {
            sb.append(e).append(", ");
        }
        return sb.append(value).toString();
    }
}
