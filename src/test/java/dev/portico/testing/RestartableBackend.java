package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP backend that answers every request with 200 and its name, and can be stopped (listener and every
 * connection closed, as when a process dies) and started again on the same port.
 */
public final class RestartableBackend implements AutoCloseable {
    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger served = new AtomicInteger();
    private final int port;
    private volatile Channel server;

    /**
     * Starts on an ephemeral port of 127.0.0.1.
     *
     * @param name the response body
     */
    public RestartableBackend(String name) {
        this.name = name;
        this.server = bind(0);
        this.port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    private Channel bind(int onPort) {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        children.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new Handler());
                    }
                }).bind("127.0.0.1", onPort).syncUninterruptibly().channel();
    }

    /** Closes the listener and every open connection: new connections are refused until {@link #start()}. */
    public void stop() {
        Channel s = server;
        if (s != null) {
            s.close().syncUninterruptibly();
            server = null;
        }
        children.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Listens on the same port again. */
    public void start() {
        if (server == null) {
            server = bind(port);
        }
    }

    /** @return whether it listens */
    public boolean running() {
        return server != null;
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    /** @return {@code http://127.0.0.1:PORT} */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** @return requests answered since it was created */
    public int served() {
        return served.get();
    }

    @Override
    public void close() {
        stop();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            served.incrementAndGet();
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, name));
        }
    }
}
