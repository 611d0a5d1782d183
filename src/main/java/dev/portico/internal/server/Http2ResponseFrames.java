package dev.portico.internal.server;

import dev.portico.internal.http.HeaderNames;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A response's HTTP/1.1 objects as the HTTP/2 frames of one client stream: the frames Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} makes, with two differences. A final head written without a flush is
 * held until the next part or flush, and a head followed by an empty end leaves as one HEADERS frame with
 * END_STREAM (gRPC's trailers-only answer must be one frame, and a bodiless response needs no empty DATA frame).
 * And a head's field names are lower-cased through {@link HeaderNames}' shared instances instead of two new copies
 * of every name; a head with a field whose conversion has rules of its own ({@code Connection} and the fields it
 * names, {@code TE}, {@code Cookie}) is converted by Netty. One per stream; all calls on its event loop.
 */
final class Http2ResponseFrames {
    /** Where the frames go: the stream's connection. */
    interface Out {
        /**
         * @param frame a frame of the stream (its stream is set by the receiver)
         * @param promise the write's promise, or {@code null} if nobody waits for it
         */
        void frame(Http2StreamFrame frame, ChannelPromise promise);
    }

    /** Fields HTTP/2 does not carry, dropped as Netty's conversion drops them. */
    private static final Set<AsciiString> DROPPED = Set.of(AsciiString.cached("keep-alive"),
            AsciiString.cached("proxy-connection"), HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.HOST,
            HttpHeaderNames.UPGRADE,
            HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(),
            HttpConversionUtil.ExtensionHeaderNames.PATH.text(),
            HttpConversionUtil.ExtensionHeaderNames.PROTOCOL.text());
    /** Fields with conversion rules of their own: a head with one of them is converted by Netty. */
    private static final Set<AsciiString> CONVERTED_BY_NETTY = Set.of(HttpHeaderNames.CONNECTION, HttpHeaderNames.TE,
            HttpHeaderNames.COOKIE);

    private final Out out;
    /** {@code Alt-Svc} for final heads (the listener serves HTTP/3 too), or {@code null}. */
    private final String altSvc;
    private HttpResponse held;

    /**
     * @param out where the frames go
     * @param altSvc the {@code Alt-Svc} value set on every final head, or {@code null}
     */
    Http2ResponseFrames(Out out, String altSvc) {
        this.out = out;
        this.altSvc = altSvc;
    }

    /**
     * Converts a response part to frames and writes them, the last with {@code promise}.
     *
     * @param part a response head, body part, end, full response or interim response (which it releases)
     * @param promise the write's promise, or {@code null} if nobody waits for it: only then is a head held
     */
    void write(HttpObject part, ChannelPromise promise) {
        if (part instanceof HttpResponse r && altSvc != null && r.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            r.headers().set(HttpHeaderNames.ALT_SVC, altSvc);
        }
        if (held != null) {
            HttpResponse head = held;
            held = null;
            if (part instanceof LastHttpContent last && !(part instanceof HttpResponse)
                    && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                out.frame(new DefaultHttp2HeadersFrame(headers(head), true), promise);
                return;
            }
            out.frame(new DefaultHttp2HeadersFrame(headers(head), false), null);
        }
        if (part instanceof HttpResponse r) {
            if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                // 100 Continue and the like: a HEADERS frame that does not end the stream
                out.frame(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(r, true), false), promise);
                ReferenceCountUtil.release(part);
                return;
            }
            if (!(part instanceof HttpContent) && promise == null) {
                held = r; // an empty end next makes one HEADERS frame with END_STREAM
                return;
            }
            boolean ends = part instanceof FullHttpMessage full && !full.content().isReadable()
                    && full.trailingHeaders().isEmpty();
            boolean more = part instanceof HttpContent && !ends;
            out.frame(new DefaultHttp2HeadersFrame(headers(r), ends), more ? null : promise);
            if (!more) {
                ReferenceCountUtil.release(part);
                return;
            }
        }
        if (part instanceof LastHttpContent last) {
            boolean trailers = !last.trailingHeaders().isEmpty();
            boolean filler = !(part instanceof FullHttpMessage) && !trailers;
            if (last.content().isReadable() || filler) {
                out.frame(new DefaultHttp2DataFrame(last.content(), !trailers), trailers ? null : promise);
            } else {
                last.release();
            }
            if (trailers) {
                out.frame(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(last.trailingHeaders(),
                        true), true), promise);
            }
        } else if (part instanceof HttpContent c) {
            out.frame(new DefaultHttp2DataFrame(c.content(), false), promise);
        } else {
            ReferenceCountUtil.release(part);
            if (promise != null) {
                promise.setSuccess();
            }
        }
    }

    /** A flush: a held head leaves now. */
    void flush() {
        if (held != null) {
            HttpResponse head = held;
            held = null;
            out.frame(new DefaultHttp2HeadersFrame(headers(head), false), null);
        }
    }

    /** The stream closed: a held head is dropped. */
    void discard() {
        held = null;
    }

    /** @return a final response head's fields as HTTP/2 sends them */
    static Http2Headers headers(HttpResponse r) {
        Http2Headers h = toHttp2(r);
        return h != null ? h : HttpConversionUtil.toHttp2Headers(r, true);
    }

    /**
     * @param r a final response's head
     * @return its fields as HTTP/2 sends them, or {@code null} if Netty's conversion is to make them
     */
    static Http2Headers toHttp2(HttpResponse r) {
        HttpHeaders in = r.headers();
        Http2Headers out = new DefaultHttp2Headers(true, in.size());
        out.status(r.status().codeAsText());
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            AsciiString name = HeaderNames.lowerCase(field.getKey());
            if (CONVERTED_BY_NETTY.contains(name)) {
                return null;
            }
            if (!DROPPED.contains(name)) {
                out.add(name, field.getValue());
            }
        }
        return out;
    }
}
