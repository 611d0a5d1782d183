package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.internal.http.HeaderNames;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client side's response heads as HTTP/2 sends them: field for field what Netty's conversion makes. */
class Http2ResponseCodecTest {

    private static HttpResponse head(HttpResponseStatus status, String... fields) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        for (int i = 0; i < fields.length; i += 2) {
            r.headers().add(fields[i], fields[i + 1]);
        }
        return r;
    }

    private static List<Map.Entry<String, String>> fields(Http2Headers h) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        h.forEach(e -> out.add(Map.entry(e.getKey().toString(), e.getValue().toString())));
        return out;
    }

    @Test
    void aHeadHasNettysFieldsInNettysOrderWithSharedLowerCaseNames() throws Exception {
        HttpResponse r = head(HttpResponseStatus.OK, "Server", "nginx", "Date", "Sat, 05 Dec 2026 15:00:00 GMT",
                "Content-Type", "text/plain", "Content-Length", "1024", "ETag", "\"a\"", "X-Custom", "1",
                "x-custom", "2", "Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "Upgrade", "h2c",
                "Proxy-Connection", "keep-alive", "Host", "h", "x-http2-stream-id", "3", "Set-Cookie", "a=1",
                "Set-Cookie", "b=2", "Via", "1.1 portico");
        r.headers().add(new AsciiString("Vary"), "Accept-Encoding");

        Http2Headers ours = Http2ResponseCodec.toHttp2(r);

        assertThat(fields(ours)).containsExactlyElementsOf(fields(HttpConversionUtil.toHttp2Headers(r, true)));
        assertThat(ours.status()).hasToString("200");
        assertThat(fields(ours)).extracting(Map.Entry::getKey).doesNotContain("keep-alive", "transfer-encoding",
                "upgrade", "proxy-connection", "host", "x-http2-stream-id");
        // The common names are the shared lower-case instances, whatever spelling the backend used.
        ours.forEach(e -> {
            if (e.getKey().toString().equals("content-type")) {
                assertThat((Object) e.getKey()).isSameAs(HeaderNames.lowerCase("Content-Type"));
            }
        });
    }

    @Test
    void fieldsWithRulesOfTheirOwnLeaveTheHeadToNetty() {
        assertThat(Http2ResponseCodec.toHttp2(head(HttpResponseStatus.OK, "Connection", "X-Drop", "X-Drop", "1")))
                .isNull();
        assertThat(Http2ResponseCodec.toHttp2(head(HttpResponseStatus.OK, "TE", "trailers"))).isNull();
        assertThat(Http2ResponseCodec.toHttp2(head(HttpResponseStatus.OK, "Cookie", "a=1; b=2"))).isNull();
    }

    @Test
    void theFramesAreNettysForEveryKindOfResponse() {
        EmbeddedChannel ours = new EmbeddedChannel(Http2ResponseCodec.INSTANCE);
        EmbeddedChannel netty = new EmbeddedChannel(
                new io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec(true, true));
        for (EmbeddedChannel ch : List.of(ours, netty)) {
            ch.writeOutbound(head(HttpResponseStatus.OK, "Content-Type", "text/plain"));
            ch.writeOutbound(new DefaultLastHttpContent(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));
            ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED));
            ch.writeOutbound(head(HttpResponseStatus.OK, "Connection", "X-A", "X-A", "1", "X-B", "2"));
            LastHttpContent trailers = new DefaultLastHttpContent();
            trailers.trailingHeaders().add("grpc-status", "0");
            ch.writeOutbound(trailers);
            ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        List<String> a = frames(ours);
        List<String> b = frames(netty);
        assertThat(a).hasSize(6).containsExactlyElementsOf(b);
        assertThat(a.get(0)).isEqualTo("HEADERS end=false [:status=200, content-type=text/plain]");
        assertThat(a.get(3)).isEqualTo("HEADERS end=false [:status=200, x-b=2]");
        assertThat(ours.finish()).isFalse();
        assertThat(netty.finish()).isFalse();
    }

    private static List<String> frames(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        Object f;
        while ((f = ch.readOutbound()) != null) {
            if (f instanceof Http2HeadersFrame h) {
                out.add("HEADERS end=" + h.isEndStream() + " " + fields(h.headers()).stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).toList());
            } else if (f instanceof Http2DataFrame d) {
                out.add("DATA end=" + d.isEndStream() + " " + d.content().readableBytes());
                d.release();
            } else {
                out.add(String.valueOf(f));
            }
        }
        return out;
    }
}
