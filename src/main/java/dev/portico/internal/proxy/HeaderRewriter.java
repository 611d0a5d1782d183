package dev.portico.internal.proxy;

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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Builds the heads Portico forwards: hop-by-hop fields removed both ways (RFC 9110 section 7.6.1), the
 * {@code X-Forwarded-*} and {@code Via} fields added to requests. Framing ({@code Content-Length} or chunked) is
 * decided here and re-done by the codec, never copied blindly.
 *
 * <p>Of the fields that describe the client, the lists ({@code X-Forwarded-For}, {@code Forwarded}, {@code Via})
 * get Portico's hop appended, so a backend trusts them from the right; the single values describe the hop Portico
 * received and are Portico's alone: {@code X-Forwarded-Proto} and {@code X-Forwarded-Host} are set,
 * {@code X-Real-IP} is overwritten with the client's address, and {@code X-Forwarded-Port} and
 * {@code X-Forwarded-Prefix} (which a client could use to make a backend build URLs Portico never served) are
 * removed.
 */
public final class HeaderRewriter {
    /** The {@code Via} entry Portico appends. */
    public static final String VIA = "1.1 portico";
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
    private static final AsciiString X_FORWARDED_PREFIX = AsciiString.cached("x-forwarded-prefix");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    private static final AsciiString X_REAL_IP = AsciiString.cached("x-real-ip");
    private static final AsciiString HTTPS = AsciiString.cached("https");
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
     * @param tls whether the client connection is TLS ({@code X-Forwarded-Proto: https})
     * @return a new request head, HTTP/1.1, keep-alive. It takes over the client head's header object, which is
     *     rewritten in place (copying every field per request would cost more than the rest of the rewrite), so
     *     read what is needed from the client's headers, such as keep-alive, before calling this.
     */
    public static HttpRequest upstreamRequest(HttpRequest client, String target, String host, String clientIp,
                                              String forwardedHost, boolean tls) {
        HttpHeaders h = client.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(client);
        HttpRequest out = new UpstreamHead(client.method(), target, h, acceptsTrailers(h));
        // Before Portico adds its own fields: a client's "Connection: X-Forwarded-For" must remove the client's
        // value, never the one Portico appends.
        removeHopByHop(h);
        h.remove(HttpHeaderNames.EXPECT);
        if (!host.equals(h.get(HttpHeaderNames.HOST))) {
            h.set(HttpHeaderNames.HOST, host);
        }
        if (chunked) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else {
            canonicalLength(h);
        }
        h.set(X_FORWARDED_FOR, append(h, X_FORWARDED_FOR, clientIp));
        h.set(X_FORWARDED_PROTO, tls ? HTTPS : HTTP);
        if (forwardedHost != null) {
            h.set(X_FORWARDED_HOST, forwardedHost);
        } else {
            h.remove(X_FORWARDED_HOST);
        }
        if (h.contains(FORWARDED)) {
            h.set(FORWARDED, appendList(h.getAll(FORWARDED),
                    forwardedElement(clientIp, forwardedHost, tls)));
        }
        if (h.contains(X_REAL_IP)) {
            h.set(X_REAL_IP, clientIp);
        }
        h.remove(X_FORWARDED_PORT);
        h.remove(X_FORWARDED_PREFIX);
        h.set(HttpHeaderNames.VIA, append(h, HttpHeaderNames.VIA, VIA));
        return out;
    }

    /**
     * The head sent upstream, and whether the client said it takes trailers ({@code TE: trailers}): that field is
     * hop-by-hop, so it is removed here, but an HTTP/2 try sends it again (RFC 9113 section 8.2.2 allows that one
     * value, and gRPC servers require it).
     */
    public static final class UpstreamHead extends DefaultHttpRequest {
        private final boolean acceptsTrailers;

        UpstreamHead(io.netty.handler.codec.http.HttpMethod method, String target, HttpHeaders h,
                     boolean acceptsTrailers) {
            super(HttpVersion.HTTP_1_1, method, target, h);
            this.acceptsTrailers = acceptsTrailers;
        }

        /** @return whether the client sent {@code TE: trailers} */
        public boolean acceptsTrailers() {
            return acceptsTrailers;
        }
    }

    private static boolean acceptsTrailers(HttpHeaders h) {
        for (String te : h.getAll(HttpHeaderNames.TE)) {
            for (String token : te.split(",")) {
                String t = token.trim();
                int semi = t.indexOf(';');
                if ((semi < 0 ? t : t.substring(0, semi).trim()).equalsIgnoreCase("trailers")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A Content-Length with leading zeros ({@code 010}) goes on as its plain value ({@code 10}). */
    private static void canonicalLength(HttpHeaders h) {
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null && length.length() > 1 && length.charAt(0) == '0') {
            h.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(Long.parseLong(length)));
        }
    }

    /** Portico's element of an RFC 7239 {@code Forwarded} list; an IPv6 address and the host are quoted. */
    static String forwardedElement(String clientIp, String forwardedHost, boolean tls) {
        StringBuilder sb = new StringBuilder("for=");
        if (clientIp.indexOf(':') >= 0) {
            sb.append("\"[").append(clientIp).append("]\"");
        } else {
            sb.append(clientIp);
        }
        if (forwardedHost != null) {
            sb.append(";host=\"").append(forwardedHost).append('"');
        }
        return sb.append(";proto=").append(tls ? "https" : "http").toString();
    }

    /**
     * Removes every field whose name has an underscore, as nginx does by default ({@code underscores_in_headers
     * off}): CGI, WSGI and Rack origins map {@code _} and {@code -} to the same variable, so
     * {@code Transfer_Encoding} or {@code X_Forwarded_For} would reach them as the field Portico checked or set.
     *
     * @param h a client's request fields
     */
    public static void removeUnderscoreNames(HttpHeaders h) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
        List<CharSequence> found = null;
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            if (AsciiString.indexOf(name, '_', 0) >= 0) {
                if (found == null) {
                    found = new ArrayList<>(2);
                }
                found.add(name);
            }
        }
        if (found != null) {
            for (CharSequence name : found) {
                h.remove(name);
            }
        }
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
        Iterator<String> values = h.valueStringIterator(HttpHeaderNames.CONNECTION);
        String one = values.next();
        if (!values.hasNext()) {
            removeNamed(h, one); // the usual case: one field, often one token ("keep-alive", "close")
        } else {
            List<String> all = h.getAll(HttpHeaderNames.CONNECTION); // copied: removal changes the map
            for (String value : all) {
                removeNamed(h, value);
            }
        }
        h.remove(HttpHeaderNames.CONNECTION);
        removeFixedHopByHop(h);
    }

    /** Removes the fields a {@code Connection} value names, its comma-separated tokens. */
    private static void removeNamed(HttpHeaders h, String value) {
        int start = 0;
        int n = value.length();
        while (start <= n) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? n : comma;
            int from = start;
            int to = end;
            while (from < to && isOws(value.charAt(from))) {
                from++;
            }
            while (to > from && isOws(value.charAt(to - 1))) {
                to--;
            }
            if (to > from) {
                String name = from == 0 && to == n ? value : value.substring(from, to);
                if (!name.equalsIgnoreCase("content-length") && !name.equalsIgnoreCase("host")) {
                    h.remove(name);
                }
            }
            start = end + 1;
        }
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
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
