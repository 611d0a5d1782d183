package dev.portico.internal.ops;

import dev.portico.config.ConfigException;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.internal.tls.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The admin endpoint's listener, on an event loop of its own so that a busy proxy still answers health checks and
 * scrapes (and a scrape never delays an exchange). Its requests are small and aggregated: this is not the data path.
 */
final class AdminServer implements AutoCloseable {
    /** Admin requests have no body worth more than this. */
    static final int MAX_REQUEST = 64 * 1024;

    /** How often the dashboard's state is sampled and sent, unless the system property says otherwise. */
    static final String SAMPLE_PROPERTY = "portico.dashboard.sampleMillis";
    /**
     * What an admin connection may hold unsent, above which an event stream subscriber is dropped: bounded per
     * client, large enough for the whole state of a thousand routes.
     */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(512 * 1024, 1024 * 1024);

    private final EventLoopGroup group;
    private final Channel channel;
    private final Dashboard dashboard;
    private final AdminPasswords passwords;

    private AdminServer(EventLoopGroup group, Channel channel, Dashboard dashboard, AdminPasswords passwords) {
        this.group = group;
        this.channel = channel;
        this.dashboard = dashboard;
        this.passwords = passwords;
    }

    /**
     * @param address where to listen
     * @param tlsConfig {@code admin.tls}, or {@code null} for plain HTTP
     * @param ops the operations the endpoint serves
     * @throws dev.portico.config.ConfigException if a certificate or key file is bad
     */
    static AdminServer start(ListenAddress address, ListenerTlsConfig tlsConfig, Operations ops) {
        ServerTls tls = null;
        if (tlsConfig != null) {
            // The admin endpoint speaks HTTP/1.1 alone: a browser must not be offered h2 by ALPN.
            ListenerTlsConfig http1 = new ListenerTlsConfig(tlsConfig.certificates(), tlsConfig.protocols(),
                    List.of("http/1.1"), tlsConfig.clientAuth(), tlsConfig.clientCa());
            try {
                tls = new ServerTls(http1, "admin.tls");
            } catch (IllegalArgumentException e) {
                throw new ConfigException("configuration", List.of(e.getMessage()));
            }
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("portico-admin", true),
                NioIoHandler.newFactory());
        AdminPasswords passwords = new AdminPasswords();
        AdminLogin login = new AdminLogin(ops::adminAuth, passwords, new AdminSessions(), tls != null);
        AdminAccess access = new AdminAccess(ops::adminAuth, passwords, login, tls != null);
        Dashboard dashboard = new Dashboard(new DashboardModel(ops.runtime(), ops::lastReload, new Certificates()),
                (EventLoop) group.next(), Long.getLong(SAMPLE_PROPERTY, 1000));
        ServerTls serverTls = tls;
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(60, TimeUnit.SECONDS));
                        if (serverTls != null) {
                            ch.pipeline().addLast(serverTls.newHandler());
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST),
                                new AdminHandler(ops, access, dashboard, login));
                    }
                });
        ChannelFuture f = b.bind(address.host(), address.port()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            dashboard.close();
            passwords.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            String why = f.cause().getMessage() == null ? f.cause().toString() : f.cause().getMessage();
            BindException e = new BindException("cannot listen on " + address + " (admin.listen): " + why);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return new AdminServer(group, f.channel(), dashboard, passwords);
    }

    /** @return the bound address */
    InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        dashboard.close();
        passwords.close();
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
