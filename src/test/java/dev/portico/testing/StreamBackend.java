package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A streaming backend: {@code GET /stream?bytes=N} sends N bytes (Content-Length) writing only while the socket
 * is writable; {@code POST /echo} answers at once and echoes the body as it arrives (full duplex); any other
 * request with a body is counted as it arrives and answered with the count. Nothing is aggregated, so it can
 * serve transfers of any size.
 */
public final class StreamBackend implements AutoCloseable {
    private static final ByteBuf CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(64 * 1024).writeZero(64 * 1024)).asReadOnly();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong received = new AtomicLong();

    public StreamBackend() {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Handler());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public String url() {
        return "http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @return body bytes written to the socket so far (all requests) */
    public long written() {
        return written.get();
    }

    /** @return request body bytes received so far (all requests) */
    public long received() {
        return received.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private long toSend;
        private long bodyBytes;
        private boolean streaming;
        private boolean echo;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest) {
                    HttpRequest req = (HttpRequest) msg;
                    bodyBytes = 0;
                    QueryStringDecoder q = new QueryStringDecoder(req.uri());
                    streaming = q.path().equals("/stream");
                    echo = q.path().equals("/echo");
                    if (echo) {
                        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        res.headers().set(HttpHeaderNames.CONTENT_LENGTH, req.headers().get(HttpHeaderNames.CONTENT_LENGTH));
                        ctx.writeAndFlush(res);
                    }
                    toSend = streaming ? Long.parseLong(q.parameters().get("bytes").get(0)) : 0;
                }
                if (msg instanceof HttpContent) {
                    int n = ((HttpContent) msg).content().readableBytes();
                    bodyBytes += n;
                    received.addAndGet(n);
                    if (echo) {
                        ByteBuf data = ((HttpContent) msg).content().retain();
                        ctx.writeAndFlush(msg instanceof LastHttpContent ? new DefaultLastHttpContent(data)
                                : new io.netty.handler.codec.http.DefaultHttpContent(data));
                        return;
                    }
                }
                if (msg instanceof LastHttpContent) {
                    if (streaming) {
                        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        res.headers().set(HttpHeaderNames.CONTENT_LENGTH, toSend);
                        ctx.write(res);
                        pump(ctx);
                    } else {
                        byte[] body = Long.toString(bodyBytes).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                        ctx.write(res);
                        ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body)));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void pump(ChannelHandlerContext ctx) {
            while (toSend > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(toSend, CHUNK.capacity());
                toSend -= n;
                ByteBuf slice = CHUNK.retainedSlice(0, n);
                HttpContent part = toSend == 0 ? new DefaultLastHttpContent(slice)
                        : new io.netty.handler.codec.http.DefaultHttpContent(slice);
                ctx.write(part).addListener(f -> {
                    if (f.isSuccess()) {
                        written.addAndGet(n);
                    }
                });
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                pump(ctx);
            }
        }
    }
}
