package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.internal.http.HeaderNames;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import dev.portico.internal.upstream.Http2HeadCoalescer;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpObject;
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

/**
 * The client side's responses as HTTP/2 frames: field for field and frame for frame what Netty's stream codec makes
 * (with the head coalescer Portico's HTTP/2 streams had in front of it), and each write's promise on its last frame.
 */
class Http2ResponseFramesTest {

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

        Http2Headers ours = Http2ResponseFrames.toHttp2(r);

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
        assertThat(Http2ResponseFrames.toHttp2(head(HttpResponseStatus.OK, "Connection", "X-Drop", "X-Drop", "1")))
                .isNull();
        assertThat(Http2ResponseFrames.toHttp2(head(HttpResponseStatus.OK, "TE", "trailers"))).isNull();
        assertThat(Http2ResponseFrames.toHttp2(head(HttpResponseStatus.OK, "Cookie", "a=1; b=2"))).isNull();
    }

    /** One write of a response part: with or without a promise, then a flush or not. */
    private record Step(java.util.function.Supplier<HttpObject> part, boolean promise, boolean flush) {
    }

    private static List<Step> everyKindOfResponse() {
        LastHttpContent trailers = new DefaultLastHttpContent();
        trailers.trailingHeaders().add("grpc-status", "0");
        return List.of(
                // a head, a body part and the end: the head waits for the part, then leaves before it
                new Step(() -> head(HttpResponseStatus.OK, "Content-Type", "text/plain"), false, false),
                new Step(() -> new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})), true, false),
                new Step(() -> new DefaultLastHttpContent(Unpooled.wrappedBuffer(new byte[] {4})), true, true),
                // a head and an empty end: one HEADERS frame with END_STREAM
                new Step(() -> head(HttpResponseStatus.NO_CONTENT, "X-A", "1"), false, false),
                new Step(() -> LastHttpContent.EMPTY_LAST_CONTENT, true, true),
                // a head flushed alone, then trailers
                new Step(() -> head(HttpResponseStatus.OK, "Connection", "X-A", "X-A", "1", "X-B", "2"), false, true),
                new Step(() -> {
                    LastHttpContent t = new DefaultLastHttpContent();
                    t.trailingHeaders().add("grpc-status", "0");
                    return t;
                }, true, true),
                // full responses: bodiless, with a body, interim
                new Step(() -> new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED),
                        true, true),
                new Step(() -> new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY,
                        Unpooled.wrappedBuffer(new byte[5])), true, true),
                new Step(() -> new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE),
                        true, true),
                // an empty body part and an empty end after a flushed head: an empty DATA frame each
                new Step(() -> head(HttpResponseStatus.OK), false, true),
                new Step(() -> new DefaultHttpContent(Unpooled.EMPTY_BUFFER), false, false),
                new Step(() -> new DefaultLastHttpContent(), true, true));
    }

    @Test
    void theFramesAreNettysForEveryKindOfResponse() {
        EmbeddedChannel netty = new EmbeddedChannel(
                new io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec(true, true),
                new Http2HeadCoalescer());
        List<String> ours = new ArrayList<>();
        EmbeddedChannel promises = new EmbeddedChannel();
        Http2ResponseFrames frames = new Http2ResponseFrames((f, p) -> {
            ours.add(describe(f) + (p == null ? "" : " +promise"));
            if (p != null) {
                p.setSuccess();
            }
        }, null);
        for (Step step : everyKindOfResponse()) {
            HttpObject part = step.part().get();
            netty.write(part instanceof io.netty.util.ReferenceCounted r ? copy(part) : part,
                    step.promise() ? netty.newPromise() : netty.voidPromise());
            if (step.flush()) {
                netty.flush();
            }
            io.netty.channel.ChannelPromise p = step.promise() ? promises.newPromise() : null;
            frames.write(part, p);
            if (step.flush()) {
                frames.flush();
            }
            if (p != null) {
                assertThat(p.isSuccess()).as("the write's promise completes with its last frame").isTrue();
            }
        }
        List<String> theirs = frames(netty);
        assertThat(ours).hasSize(13);
        assertThat(ours.stream().map(f -> f.replace(" +promise", "")).toList()).containsExactlyElementsOf(theirs);
        assertThat(ours.get(0)).isEqualTo("HEADERS end=false [:status=200, content-type=text/plain]");
        assertThat(ours.get(3)).isEqualTo("HEADERS end=true [:status=204, x-a=1] +promise");
        assertThat(ours.get(4)).isEqualTo("HEADERS end=false [:status=200, x-b=2]");
        assertThat(ours).filteredOn(f -> f.endsWith("+promise")).hasSize(8); // one per write with a promise
        assertThat(netty.finish()).isFalse();
    }

    /** A second, independent copy of a part for Netty's pipeline (each side releases its own). */
    private static HttpObject copy(HttpObject part) {
        if (part instanceof DefaultFullHttpResponse f) {
            return f.copy();
        }
        if (part instanceof LastHttpContent l) {
            LastHttpContent c = new DefaultLastHttpContent(l.content().copy());
            c.trailingHeaders().set(l.trailingHeaders());
            return c;
        }
        return new DefaultHttpContent(((DefaultHttpContent) part).content().copy());
    }

    private static String describe(Object f) {
        if (f instanceof Http2HeadersFrame h) {
            return "HEADERS end=" + h.isEndStream() + " " + fields(h.headers()).stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).toList();
        }
        if (f instanceof Http2DataFrame d) {
            String s = "DATA end=" + d.isEndStream() + " " + d.content().readableBytes();
            d.release();
            return s;
        }
        return String.valueOf(f);
    }

    private static List<String> frames(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        Object f;
        while ((f = ch.readOutbound()) != null) {
            out.add(describe(f));
        }
        return out;
    }
}
