package dev.portico.server;

import dev.portico.balance.DnsRefresher;
import dev.portico.balance.HealthChecker;
import dev.portico.balance.UpstreamGroup;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.proxy.AccessLog;
import dev.portico.proxy.ProxyFailure;
import dev.portico.route.Route;
import dev.portico.route.Router;
import dev.portico.tls.TlsRuntime;
import dev.portico.upstream.UpstreamPool;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running proxy: event loops, listeners, per-loop upstream pools, and the config they serve. Started and stopped
 * from outside the event loops.
 */
public final class ProxyRuntime {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    /** How long past its TTL a backend address outlives failed re-resolution. */
    private static final Duration DNS_GRACE = Duration.ofMinutes(5);

    private final ProxyConfig config;
    private final TlsRuntime tls;
    private Router router;
    private final AccessLog accessLog;
    private final EventLoopGroup group;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends SocketChannel> socketClass;
    private final DnsRefresher dns;
    private final List<UpstreamGroup> groups = new ArrayList<>();
    private final List<HealthChecker> checkers = new ArrayList<>();
    private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();
    private final ChannelGroup connections = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final List<Channel> listeners = new ArrayList<>();
    private volatile boolean draining;
    /** Rate-limits the connection-limit warning; a benign race between loops at worst logs twice. */
    private volatile long lastLimitLog = System.nanoTime() - 2_000_000_000L;

    private ProxyRuntime(ProxyConfig config, TlsRuntime tls) {
        this.config = config;
        this.tls = tls;
        this.accessLog = new AccessLog(config.accessLog().enabled());
        int threads = config.workers() > 0 ? config.workers() : Runtime.getRuntime().availableProcessors();
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("portico-loop"), io);
        this.serverChannelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.socketClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        Class<? extends DatagramChannel> datagramClass = epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
        this.dns = new DnsRefresher(group.next(), datagramClass, null, DNS_GRACE);
        for (EventExecutor e : group) {
            pools.put(e, new UpstreamPool((EventLoop) e, socketClass, config.timeouts()));
        }
        List<UpstreamPool> all = new ArrayList<>(pools.values());
        for (UpstreamPool p : all) {
            p.siblings(all);
        }
        LOG.info("{} transport, {} event loop thread{}", epoll ? "epoll" : "nio", threads, threads == 1 ? "" : "s");
    }

    /**
     * Resolves the backends, binds every listener and logs {@code listening on HOST:PORT} for each.
     *
     * @param config the configuration
     * @return the running proxy
     * @throws UncheckedIOException if a backend name does not resolve or an address cannot be bound
     * @throws dev.portico.config.ConfigException if a certificate or key file is missing or bad
     */
    public static ProxyRuntime start(ProxyConfig config) {
        TlsRuntime tls = TlsRuntime.create(config);
        ProxyRuntime runtime = new ProxyRuntime(config, tls);
        try {
            runtime.router = new Router(runtime.buildRoutes(config));
            runtime.bindAll();
            runtime.startHealthChecks();
        } catch (RuntimeException e) {
            runtime.shutdownNow();
            throw e;
        }
        tls.startWatching();
        return runtime;
    }

    /**
     * The routes of {@code config}, each with its upstream's live state: a named upstream is shared by the routes
     * naming it, a route's own URLs make an upstream of their own. Resolves backend names before it returns.
     */
    private List<Route> buildRoutes(ProxyConfig config) {
        Map<UpstreamConfig, UpstreamGroup> byConfig = new IdentityHashMap<>();
        List<Route> routes = new ArrayList<>();
        List<CompletableFuture<Void>> resolving = new ArrayList<>();
        for (RouteConfig rc : config.routes()) {
            UpstreamGroup g = byConfig.computeIfAbsent(rc.upstream(), u -> {
                UpstreamGroup created = new UpstreamGroup(u, u.name().isEmpty()
                        ? (rc.host().isEmpty() ? "" : rc.host()) + rc.path() : u.name(), tls.upstreamClients());
                groups.add(created);
                resolving.add(dns.add(created));
                return created;
            });
            long limit = rc.maxRequestBody() == RouteConfig.INHERIT ? config.limits().maxRequestBody()
                    : rc.maxRequestBody();
            routes.add(new Route(rc, g, limit));
        }
        try {
            CompletableFuture.allOf(resolving.toArray(new CompletableFuture[0]))
                    .get(config.timeouts().connect().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw failure(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw failure("backend names did not resolve in time", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted while resolving backend names", e);
        }
        return routes;
    }

    private static UncheckedIOException failure(String message, Throwable cause) {
        return new UncheckedIOException(message, new IOException(message, cause));
    }

    private void startHealthChecks() {
        for (UpstreamGroup g : groups) {
            if (g.config().healthCheck() != null) {
                HealthChecker c = new HealthChecker(g, group.next(), socketClass);
                checkers.add(c);
                c.start();
            }
        }
    }

    /** @return the live upstreams, in config order */
    public List<UpstreamGroup> upstreams() {
        return List.copyOf(groups);
    }

    private void bindAll() {
        HttpsRedirect redirect = new HttpsRedirect();
        int firstTls = -1;
        for (int i = 0; i < config.listen().size(); i++) {
            ListenerConfig listener = config.listen().get(i);
            ListenAddress a = listener.address();
            if (listener.tls() != null && firstTls < 0) {
                firstTls = i;
            }
            // One initializer per listener: limits.max_connections counts per listener.
            ServerBootstrap b = new ServerBootstrap().group(group).channel(serverChannelClass)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new FrontendInitializer(this, tls.listener(i),
                            listener.redirectHttps() ? redirect : null, a.h2c()));
            ChannelFuture f = b.bind(a.host(), a.port()).awaitUninterruptibly();
            if (!f.isSuccess()) {
                Throwable c = f.cause();
                String why = c.getMessage() == null ? c.toString() : c.getMessage();
                // Native transports prefix the errno: "bind(..) failed with error(-98): Address already in use".
                why = why.substring(why.lastIndexOf("): ") < 0 ? 0 : why.lastIndexOf("): ") + 3);
                BindException e = new BindException("cannot listen on " + a + ": " + why);
                throw new UncheckedIOException(e.getMessage(), e);
            }
            listeners.add(f.channel());
        }
        if (firstTls >= 0) {
            redirect.httpsPort(((InetSocketAddress) listeners.get(firstTls).localAddress()).getPort());
        }
        for (Channel ch : listeners) {
            InetSocketAddress bound = (InetSocketAddress) ch.localAddress();
            LOG.info("listening on {}", new ListenAddress(bound.getAddress().getHostAddress(), bound.getPort()));
        }
    }

    /** @return the addresses actually bound, in config order */
    public List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel ch : listeners) {
            out.add((InetSocketAddress) ch.localAddress());
        }
        return out;
    }

    /** @return the configuration this runtime serves */
    public ProxyConfig config() {
        return config;
    }

    Router router() {
        return router;
    }

    AccessLog accessLog() {
        return accessLog;
    }

    UpstreamPool pool(EventLoop loop) {
        return pools.get(loop);
    }

    boolean draining() {
        return draining;
    }

    void connectionOpened(Channel ch) {
        connections.add(ch);
        if (draining) {
            ch.close();
        }
    }

    void logRejected(Channel ch, HttpRequest request, ProxyFailure failure) {
        LOG.warn("{} rejected {}: {} ({})", ch.id().asShortText(),
                request == null ? "-" : request.method() + " " + abbreviate(request.uri()),
                failure.kind(), failure.getMessage());
    }

    void logConnectionLimit(Channel ch, int max) {
        long now = System.nanoTime();
        if (now - lastLimitLog > 1_000_000_000L) {
            lastLimitLog = now;
            LOG.warn("connection limit reached ({} per listener): closing new connections", max);
        }
    }

    void logConnectionError(Channel ch, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.debug("{} client connection error", ch.id().asShortText(), cause);
        } else {
            LOG.warn("{} client connection error: {}", ch.id().asShortText(), cause.toString(), cause);
        }
    }

    private static String abbreviate(String uri) {
        return uri.length() <= 200 ? uri : uri.substring(0, 200) + "...";
    }

    /**
     * Graceful shutdown: stop accepting, close idle connections, let in-flight exchanges finish (their responses
     * close the connection) for up to {@code drain}, then close what is left and stop the event loops.
     *
     * @param drain the longest wait for in-flight exchanges
     */
    public void stop(Duration drain) {
        draining = true;
        for (Channel l : listeners) {
            l.close().awaitUninterruptibly();
        }
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                FrontendHandler h = ch.pipeline().get(FrontendHandler.class);
                if (h != null) {
                    h.drain();
                } else if (Http2Frontend.isHttp2(ch)) {
                    ch.close(); // GOAWAY; the connection closes once its open streams are done
                }
            });
        }
        long deadline = System.nanoTime() + drain.toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!connections.isEmpty()) {
            LOG.warn("drain timeout: closing {} connections with exchanges in flight", connections.size());
        }
        shutdownNow();
    }

    /**
     * Re-reads the certificate and key files that changed since they were last read (they are also checked every
     * few seconds); a bad file keeps the current certificates and is logged.
     *
     * @return how many listeners took new certificates
     */
    public int reloadCertificates() {
        return tls.reloadChanged();
    }

    private void shutdownNow() {
        draining = true;
        for (HealthChecker c : checkers) {
            c.close();
        }
        dns.close();
        tls.close();
        connections.close().awaitUninterruptibly();
        for (UpstreamPool p : pools.values()) {
            p.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
