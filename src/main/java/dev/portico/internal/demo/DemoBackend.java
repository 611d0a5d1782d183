package dev.portico.internal.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;

/**
 * A tiny HTTP server that answers every request with a line naming itself and echoing the request line. Only for
 * the demo: it aggregates bodies (up to 1 MiB) and is not part of the proxy's data path.
 */
public final class DemoBackend implements AutoCloseable {
    private final String name;
    private final EventLoopGroup group;
    private final Channel channel;

    private DemoBackend(String name, String host, int port) {
        this.name = name;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("demo-" + name),
                NioIoHandler.newFactory());
        var f = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Echo());
                    }
                }).bind(host, port).awaitUninterruptibly();
        if (!f.isSuccess()) {
            group.shutdownGracefully();
            String msg = "cannot listen on " + host + ":" + port + ": " + f.cause().getMessage();
            throw new UncheckedIOException(msg, new BindException(msg));
        }
        this.channel = f.channel();
    }

    /**
     * Starts a demo backend.
     *
     * @param name the name it answers with
     * @param host the host to bind
     * @param port the port
     * @return the running backend
     */
    public static DemoBackend start(String name, String host, int port) {
        return new DemoBackend(name, host, port);
    }

    /** @return the port it listens on (the one given, or the one chosen for port 0) */
    public int port() {
        return ((java.net.InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class Echo extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String text = "Hello from the demo backend \"" + name + "\" at " + channel.localAddress() + "\n"
                    + "You sent: " + req.method() + " " + req.uri() + " " + req.protocolVersion() + "\n";
            byte[] body = text.getBytes(StandardCharsets.UTF_8);
            FullHttpResponse res = new DefaultFullHttpResponse(req.protocolVersion(), HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(body));
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
