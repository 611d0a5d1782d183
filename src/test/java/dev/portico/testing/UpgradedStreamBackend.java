package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers any request with a WebSocket 101, then leaves HTTP and sends a fixed number of raw bytes, writing only
 * while the socket is writable, and closes: a backend whose output shows whether the tunnel applies backpressure.
 */
public final class UpgradedStreamBackend implements AutoCloseable {
    private static final ByteBuf CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(64 * 1024).writeZero(64 * 1024)).asReadOnly();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicLong written = new AtomicLong();

    public UpgradedStreamBackend(long bytes) {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Pump(bytes));
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public String url() {
        return "http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @return raw bytes written to the socket after the 101 */
    public long written() {
        return written.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Pump extends ChannelInboundHandlerAdapter {
        private long toSend;
        private boolean upgraded;

        Pump(long bytes) {
            this.toSend = bytes;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean head = msg instanceof HttpRequest;
            String key = head ? ((HttpRequest) msg).headers().get("sec-websocket-key") : null;
            ReferenceCountUtil.release(msg);
            if (!head || upgraded) {
                return;
            }
            upgraded = true;
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.SWITCHING_PROTOCOLS);
            r.headers().set("upgrade", "websocket").set("connection", "upgrade")
                    .set("sec-websocket-accept", accept(key == null ? "" : key));
            ctx.writeAndFlush(r);
            ctx.pipeline().remove(HttpServerCodec.class);
            pump(ctx);
        }

        /** The handshake's answer to {@code key} (RFC 6455 section 4.2.2). */
        private static String accept(String key) {
            try {
                return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
                        .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        private void pump(ChannelHandlerContext ctx) {
            while (upgraded && toSend > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(toSend, CHUNK.capacity());
                toSend -= n;
                ctx.write(CHUNK.retainedSlice(0, n)).addListener(f -> {
                    if (f.isSuccess()) {
                        written.addAndGet(n);
                    }
                });
            }
            if (upgraded && toSend == 0) {
                upgraded = false;
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                return;
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
