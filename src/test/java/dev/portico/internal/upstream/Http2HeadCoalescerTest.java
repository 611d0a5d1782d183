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
import org.junit.jupiter.api.Timeout;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

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
    void aRequestWithABodyIsFlushedAtOnce() {
        EmbeddedChannel ch = new EmbeddedChannel(new Http2HeadCoalescer());
        HttpRequest post = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/x");
        post.headers().set(HttpHeaderNames.CONTENT_LENGTH, "4");
        ch.writeAndFlush(post);
        assertThat((Object) ch.readOutbound()).isSameAs(post);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    /**
     * On a real event loop (an embedded channel runs queued tasks at every flush): a bodiless request's head waits
     * across a flush for an end written in the same task of the loop, and both leave as one message.
     */
    @Test
    @Timeout(10)
    void aBodilessRequestWaitsForItsEndAcrossAFlushInTheSameTask() throws Exception {
        try (LoopRig rig = new LoopRig()) {
            boolean[] heldAfterFlush = new boolean[1];
            rig.inLoop(() -> {
                rig.channel.writeAndFlush(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x"));
                heldAfterFlush[0] = rig.seen.isEmpty();
                rig.channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            });
            rig.inLoop(() -> { }); // the tasks the first one queued have run
            assertThat(heldAfterFlush[0]).isTrue();
            assertThat(rig.seen).hasSize(1);
            assertThat(rig.seen.get(0)).isInstanceOf(FullHttpRequest.class);
            assertThat(((FullHttpRequest) rig.seen.get(0)).uri()).isEqualTo("/x");
        }
    }

    /** A bodiless request's head whose end does not come in the same task leaves when that task is over. */
    @Test
    @Timeout(10)
    void aBodilessRequestsHeadLeavesWhenItsEndDoesNotFollowInTheSameTask() throws Exception {
        try (LoopRig rig = new LoopRig()) {
            HttpRequest get = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x");
            rig.inLoop(() -> rig.channel.writeAndFlush(get));
            rig.inLoop(() -> { });
            assertThat(rig.seen).containsExactly(get);
            rig.inLoop(() -> rig.channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
            assertThat(rig.seen).containsExactly(get, LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** A local channel on a real event loop with the coalescer, and what leaves it recorded instead of sent. */
    private static final class LoopRig implements AutoCloseable {
        final DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
        final List<Object> seen = new CopyOnWriteArrayList<>();
        final Channel server;
        final Channel channel;

        LoopRig() throws InterruptedException {
            LocalAddress address = new LocalAddress("coalescer-" + UUID.randomUUID());
            server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter()).bind(address).sync().channel();
            channel = new Bootstrap().group(group).channel(LocalChannel.class).handler(new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
                        @Override
                        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                            seen.add(msg);
                            promise.trySuccess();
                        }
                    }, new Http2HeadCoalescer());
                }
            }).connect(address).sync().channel();
        }

        void inLoop(Runnable task) throws Exception {
            channel.eventLoop().submit(task).get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            channel.close().sync();
            server.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            seen.forEach(ReferenceCountUtil::release);
        }
    }
}
