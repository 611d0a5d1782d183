package dev.portico.internal.server;

import dev.portico.internal.http.HeaderNames;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Netty's HTTP/2 stream codec for the client side of an HTTP/2 connection, with the response head converted by
 * Portico: the same HEADERS frame as Netty's conversion makes, but field names lower-cased through
 * {@link HeaderNames}' shared instances instead of two new copies of every name on every response. A head with a
 * field whose conversion has rules of its own ({@code Connection} and the fields it names, {@code TE},
 * {@code Cookie}) and everything else (interim responses, bodies, trailers, requests) go through Netty's codec
 * unchanged. One instance serves every stream (the codec keeps no state).
 */
@ChannelHandler.Sharable
final class Http2ResponseCodec extends Http2StreamFrameToHttpObjectCodec {
    static final Http2ResponseCodec INSTANCE = new Http2ResponseCodec();

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

    private Http2ResponseCodec() {
        super(true, true);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, HttpObject obj, List<Object> out) throws Exception {
        if (obj instanceof HttpResponse r && r.status().code() >= 200) {
            if (!(obj instanceof HttpContent)) { // a head, its body to follow
                Http2Headers h = toHttp2(r);
                if (h != null) {
                    out.add(new DefaultHttp2HeadersFrame(h, false));
                    return;
                }
            } else if (obj instanceof FullHttpResponse f && !f.content().isReadable()
                    && f.trailingHeaders().isEmpty()) { // bodiless: one HEADERS frame that ends the stream
                Http2Headers h = toHttp2(f);
                if (h != null) {
                    out.add(new DefaultHttp2HeadersFrame(h, true));
                    return;
                }
            }
        }
        super.encode(ctx, obj, out);
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
