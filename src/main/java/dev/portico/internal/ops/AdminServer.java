package dev.portico.internal.ops;

import dev.portico.config.ListenAddress;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The admin endpoint's listener, on an event loop of its own so that a busy proxy still answers health checks and
 * scrapes (and a scrape never delays an exchange). Its requests are small and aggregated: this is not the data path.
 */
final class AdminServer implements AutoCloseable {
    /** Admin requests have no body worth more than this. */
    static final int MAX_REQUEST = 64 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    static AdminServer start(ListenAddress address, Operations ops) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("portico-admin", true),
                NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(60, TimeUnit.SECONDS), new HttpServerCodec(),
                                new HttpObjectAggregator(MAX_REQUEST), new AdminHandler(ops));
                    }
                });
        ChannelFuture f = b.bind(address.host(), address.port()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            String why = f.cause().getMessage() == null ? f.cause().toString() : f.cause().getMessage();
            BindException e = new BindException("cannot listen on " + address + " (admin.listen): " + why);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return new AdminServer(group, f.channel());
    }

    /** @return the bound address */
    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
