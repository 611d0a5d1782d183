package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend that streams text: {@code GET /text?bytes=N&seed=S} answers {@code text/plain} with N bytes of
 * {@link TextBody} S, chunked (no length), written in 16 KiB parts only while the socket is writable, so how much
 * it wrote shows how much the proxy took in.
 */
public final class TextStreamBackend implements AutoCloseable {
    private static final int PART = 16 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicLong written = new AtomicLong();
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    public TextStreamBackend() {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new Handler());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public String url() {
        return "http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @return body bytes written to the socket so far */
    public long written() {
        return written.get();
    }

    /** Closes the connections first, on their loop, so parts still queued for a stalled peer are released. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        connections.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private TextBody text;
        private long toSend;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest req) {
                    QueryStringDecoder q = new QueryStringDecoder(req.uri());
                    toSend = Long.parseLong(q.parameters().get("bytes").get(0));
                    text = new TextBody(Long.parseLong(q.parameters().get("seed").get(0)));
                    HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=us-ascii");
                    HttpUtil.setTransferEncodingChunked(res, true);
                    ctx.write(res);
                    pump(ctx);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void pump(ChannelHandlerContext ctx) {
            while (toSend > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(toSend, PART);
                toSend -= n;
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(text.next(n)))).addListener(f -> {
                    if (f.isSuccess()) {
                        written.addAndGet(n);
                    }
                });
                if (toSend == 0) {
                    ctx.write(new DefaultLastHttpContent());
                }
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
