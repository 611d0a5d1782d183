package dev.portico.internal.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

/** A head and an empty end become one full message; anything else passes as written. */
class Http2HeadCoalescerTest {
    private static HttpResponse response() {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set("grpc-status", "14");
        return r;
    }

    @Test
    void aHeadAndAnEmptyEndLeaveAsOneFullResponse() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http2HeadCoalescer());
        ch.write(response());
        ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        FullHttpResponse full = ch.readOutbound();
        assertThat(full.headers().get("grpc-status")).isEqualTo("14");
        assertThat(full.content().readableBytes()).isZero();
        assertThat((Object) ch.readOutbound()).isNull();
        full.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aHeadWithABodyOrTrailersPassesAsWritten() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http2HeadCoalescer());
        ch.write(response());
        ch.write(new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {1})));
        LastHttpContent end = new DefaultLastHttpContent();
        end.trailingHeaders().set("grpc-status", "0");
        ch.writeAndFlush(end);
        assertThat((Object) ch.readOutbound()).isInstanceOf(HttpResponse.class).isNotInstanceOf(FullHttpResponse.class);
        HttpContent body = ch.readOutbound();
        assertThat(body.content().readableBytes()).isEqualTo(1);
        body.release();
        LastHttpContent last = ch.readOutbound();
        assertThat(last.trailingHeaders().get("grpc-status")).isEqualTo("0");
        ReferenceCountUtil.release(last);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aFlushSendsAResponseHeadThatWaits() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http2HeadCoalescer());
        ch.write(response());
        ch.flush();
        assertThat((Object) ch.readOutbound()).isInstanceOf(HttpResponse.class);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aBodilessRequestWaitsForItsEndAcrossAFlush() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http2HeadCoalescer());
        ch.writeAndFlush(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x"));
        assertThat((Object) ch.readOutbound()).isNull();
        ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        FullHttpRequest full = ch.readOutbound();
        assertThat(full.uri()).isEqualTo("/x");
        full.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aRequestWithABodyIsFlushedAtOnce() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http2HeadCoalescer());
        HttpRequest post = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/x");
        post.headers().set(HttpHeaderNames.CONTENT_LENGTH, "4");
        ch.writeAndFlush(post);
        assertThat((Object) ch.readOutbound()).isSameAs(post);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}
