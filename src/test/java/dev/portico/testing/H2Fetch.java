package dev.portico.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** An HTTP/2 (prior knowledge, h2c) client for tests that need whole response bodies as bytes. */
public final class H2Fetch implements AutoCloseable {
    /**
     * A response: status, fields (as Netty's HTTP/1.1 view of them, which adds {@code transfer-encoding}), the
     * whole body, and the fields of the HEADERS frame as they came on the wire.
     */
    public record Result(int status, HttpHeaders headers, byte[] body, Http2Headers wire) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    public H2Fetch(int port) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                }).connect("127.0.0.1", port).sync().channel();
    }

    /**
     * @param method the method
     * @param path the path
     * @param headers request fields, as name, value, name, value...
     * @return the response once its end arrived
     */
    public CompletableFuture<Result> send(HttpMethod method, String path, String... headers) {
        return send(method, path, new byte[0][], headers);
    }

    /**
     * @param method the method
     * @param path the path
     * @param body the request body, as DATA frames of these parts (the last with END_STREAM)
     * @param headers request fields, as name, value, name, value...
     * @return the response once its end arrived
     */
    public CompletableFuture<Result> send(HttpMethod method, String path, byte[][] body, String... headers) {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, path);
        head.headers().set("host", "127.0.0.1");
        for (int i = 0; i < headers.length; i += 2) {
            head.headers().add(headers[i], headers[i + 1]);
        }
        CompletableFuture<Result> result = new CompletableFuture<>();
        new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                Collector collector = new Collector(head, body, result);
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof Http2HeadersFrame f && collector.wire == null) {
                            collector.wire = f.headers();
                        }
                        ctx.fireChannelRead(msg);
                    }
                }, new Http2StreamFrameToHttpObjectCodec(false), collector);
            }
        }).open().addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
            }
        });
        return result;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final HttpRequest head;
        private final byte[][] parts;
        private final CompletableFuture<Result> result;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private HttpResponse response;
        private Http2Headers wire;

        Collector(HttpRequest head, byte[][] parts, CompletableFuture<Result> result) {
            this.head = head;
            this.parts = parts;
            this.result = result;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.write(head);
            for (int i = 0; i < parts.length - 1; i++) {
                ctx.write(new io.netty.handler.codec.http.DefaultHttpContent(
                        io.netty.buffer.Unpooled.wrappedBuffer(parts[i])));
            }
            ctx.writeAndFlush(parts.length == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
                    : new io.netty.handler.codec.http.DefaultLastHttpContent(
                            io.netty.buffer.Unpooled.wrappedBuffer(parts[parts.length - 1])));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse r && r.status().code() >= 200) {
                    response = r;
                }
                if (msg instanceof HttpContent c && response != null) {
                    byte[] b = new byte[c.content().readableBytes()];
                    c.content().readBytes(b);
                    body.writeBytes(b);
                    if (msg instanceof LastHttpContent) {
                        result.complete(new Result(response.status().code(), response.headers(), body.toByteArray(),
                                wire));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IllegalStateException("stream closed before the response ended"));
        }
    }
}
