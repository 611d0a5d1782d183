package dev.portico.internal.server;

import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.ConfigException;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.cache.CachePolicy;
import dev.portico.internal.policy.PolicyRegistry;
import dev.portico.internal.metrics.Metrics;
import dev.portico.internal.proxy.AccessLog;
import dev.portico.internal.proxy.BufferBudget;
import dev.portico.internal.proxy.ExchangeLog;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.route.Route;
import dev.portico.internal.tls.ServerTls;
import dev.portico.internal.tls.TlsRuntime;
import dev.portico.internal.trace.TraceExport;
import dev.portico.internal.upstream.UpstreamPool;
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
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running proxy: event loops, listeners, per-loop upstream pools, and the config they serve. Started and stopped
 * from outside the event loops.
 */
public final class ProxyRuntime {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    /** The config, router and route meters new exchanges use; swapped whole by {@link #reload}. */
    private volatile Snapshot snapshot;
    private final Metrics metrics = new Metrics(ProxyFailure.Kind.class);
    /** Span export across reloads; loads nothing of the tracing SDK until a configuration has tracing.otlp. */
    private final TraceExport traces = new TraceExport();
    private final BufferBudget buffered;
    private final TlsRuntime tls;
    private final UpstreamRegistry upstreams;
    /** Where {@code redirect_https} listeners send clients: the port of the first TLS listener, as bound now. */
    private final HttpsRedirect redirect = new HttpsRedirect();
    private final AccessLog accessLog;
    private final EventLoopGroup group;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();
    /** The open client connections, of all listeners: drained and closed at shutdown, by listener on reload. */
    private final ConnectionRegistry connections = new ConnectionRegistry();
    /** Per event loop: the idle timers of its HTTP/1.1 client connections. */
    private final Map<EventExecutor, IdleSweep> sweeps = new ConcurrentHashMap<>();
    /** The bound listeners in config order; changed only under this object's lock (start, reload, stop). */
    private final Map<ListenerKey, Listener> listeners = new LinkedHashMap<>();
    /** What each bound listener was configured with. */
    private final Map<ListenerKey, ListenerConfig> listenerConfigs = new LinkedHashMap<>();

    private volatile boolean draining;
    /** False once a graceful shutdown began: {@code /readyz} answers 503 while exchanges still run. */
    private volatile boolean ready;
    /** Rate-limits the connection-limit warning; a benign race between loops at worst logs twice. */
    private volatile long lastLimitLog = System.nanoTime() - 2_000_000_000L;

    private ProxyRuntime(ProxyConfig config, TlsRuntime tls) {
        this.tls = tls;
        this.accessLog = new AccessLog(config.accessLog());
        this.buffered = new BufferBudget(config.limits().maxBufferedBytes());
        int threads = config.workers() > 0 ? config.workers() : Runtime.getRuntime().availableProcessors();
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("portico-loop"), io);
        this.serverChannelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends SocketChannel> socketClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        for (EventExecutor e : group) {
            pools.put(e, new UpstreamPool((EventLoop) e, socketClass, config.timeouts()));
        }
        List<UpstreamPool> all = new ArrayList<>(pools.values());
        for (UpstreamPool p : all) {
            p.siblings(all);
        }
        this.upstreams = new UpstreamRegistry(group, socketClass,
                epoll ? EpollDatagramChannel.class : NioDatagramChannel.class, tls);
        LOG.info("{} transport, {} event loop thread{}", epoll ? "epoll" : "nio", threads, threads == 1 ? "" : "s");
        RuntimeMeters.register(metrics, connections, pools.values(), accessLog, buffered);
        metrics.counter("portico.tracing.spans.dropped", "Spans dropped: the export queue was full or the "
                + "collector did not take them", traces.drops()::count);
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
        runtime.metrics.caches(() -> runtime.caches().stream().map(CachePolicy::stats).toList());
        try {
            runtime.snapshot = runtime.snapshot(config);
            runtime.traces.applied(runtime.snapshot.tracing);
            runtime.upstreams.retain(runtime.snapshot.routeList);
            runtime.bindAll();
        } catch (RuntimeException e) {
            runtime.shutdownNow();
            throw e;
        }
        tls.startWatching();
        runtime.ready = true;
        return runtime;
    }

    /** Builds what exchanges read from a configuration: routes (resolved here), router, route meters. */
    private Snapshot snapshot(ProxyConfig config) {
        PolicyRegistry current = snapshot == null ? PolicyRegistry.empty(metrics, group) : snapshot.policies;
        return new Snapshot(config, upstreams.routes(config), metrics, current.next(config),
                traces.next(config.operations().tracing()));
    }

    /**
     * Applies a new configuration without dropping a connection: routes, limits, timeouts and access log settings
     * apply to exchanges that start from now on (those in flight finish on the configuration they began with);
     * listeners added are bound, listeners removed stop accepting and their connections drain. Runs on the
     * caller's thread (it resolves names and binds), never an event loop. Nothing changes if it fails.
     *
     * @param next the new configuration, already validated
     * @throws UncheckedIOException if a backend name does not resolve or a new address cannot be bound
     * @throws IllegalStateException if the runtime is stopping
     * @throws ConfigException if a file the configuration names is missing or bad now
     */
    public synchronized void reload(ProxyConfig next) {
        if (draining) {
            throw new IllegalStateException("shutting down");
        }
        ProxyConfig old = snapshot.config;
        if (next.workers() != old.workers()) {
            LOG.warn("workers: a change takes a restart; keeping {}", old.workers());
        }
        Snapshot built = snapshot(next);
        List<ListenerKey> keys = ListenerKey.of(next.listen());
        Listener[] reused = ListenerKey.match(listeners, next.listen(), keys);
        Map<ListenerKey, Listener> added = new LinkedHashMap<>();
        FrontendInitializer.Options[] options = new FrontendInitializer.Options[keys.size()];
        List<ServerTls> newTls = new ArrayList<>();
        try {
            for (int i = 0; i < next.listen().size(); i++) {
                ListenerConfig l = next.listen().get(i);
                Listener same = reused[i];
                ServerTls serverTls;
                if (l.tls() == null) {
                    serverTls = null;
                } else if (same != null && l.tls().equals(listenerConfigs.get(ListenerKey.of(listeners, same)).tls())) {
                    serverTls = same.initializer().options().tls();
                } else {
                    try {
                        serverTls = tls.add(l.tls(), "listen[" + i + "].tls");
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException("configuration", List.of(e.getMessage()));
                    }
                    newTls.add(serverTls);
                }
                options[i] = new FrontendInitializer.Options(serverTls, l.redirectHttps() ? redirect : null,
                        l.address().h2c(), l.proxyProtocol());
                if (same == null) {
                    added.put(keys.get(i), bind(l, options[i]));
                }
            }
        } catch (RuntimeException e) {
            added.values().forEach(l -> l.channel().close().awaitUninterruptibly());
            newTls.forEach(tls::remove);
            upstreams.retain(snapshot.routeList); // retire the upstreams only the refused config named
            built.policies.retire(snapshot.policies); // and the policy state only it made (a Redis link)
            throw e;
        }
        Snapshot previous = snapshot;
        snapshot = built;
        previous.policies.retire(built.policies);
        traces.applied(built.tracing);
        upstreams.retain(built.routeList);
        metrics.retainRoutes(built.routeMetrics());
        accessLog.configure(next.accessLog());
        buffered.limit(next.limits().maxBufferedBytes());
        if (!next.timeouts().equals(old.timeouts())) {
            pools.values().forEach(p -> p.timeouts(next.timeouts()));
        }
        Map<ListenerKey, Listener> kept = new LinkedHashMap<>();
        Map<ListenerKey, ListenerConfig> keptConfigs = new LinkedHashMap<>();
        for (int i = 0; i < next.listen().size(); i++) {
            ListenerKey k = keys.get(i);
            Listener l = reused[i] != null ? reused[i] : added.get(k);
            if (reused[i] != null) {
                ServerTls before = l.initializer().options().tls();
                if (!options[i].equals(l.initializer().options())) {
                    LOG.info("listen[{}]: {} keeps its socket; new connections use its new settings", i,
                            l.boundText());
                }
                l.initializer().options(options[i]);
                if (before != null && before != options[i].tls()) {
                    tls.remove(before);
                }
            }
            kept.put(k, l);
            keptConfigs.put(k, next.listen().get(i));
        }
        for (Listener l : listeners.values()) {
            if (!kept.containsValue(l)) {
                LOG.info("stopped listening on {}: its connections drain", l.boundText());
                if (l.initializer().options().tls() != null) {
                    tls.remove(l.initializer().options().tls());
                }
                l.stopAndDrain(next.timeouts().drain());
            }
        }
        listeners.clear();
        listeners.putAll(kept);
        listenerConfigs.clear();
        listenerConfigs.putAll(keptConfigs);
        pointRedirect();
        added.values().forEach(l -> LOG.info("listening on {}", l.boundText()));
    }

    /** {@code redirect_https} sends clients to the port of the first TLS listener, as bound now; else 443. */
    private void pointRedirect() {
        for (Listener l : listeners.values()) {
            if (l.initializer().options().tls() != null) {
                redirect.httpsPort(((InetSocketAddress) l.channel().localAddress()).getPort());
                return;
            }
        }
        redirect.httpsPort(443);
    }

    private synchronized void bindAll() {
        List<ListenerConfig> all = snapshot.config.listen();
        List<ListenerKey> keys = ListenerKey.of(all);
        for (int i = 0; i < all.size(); i++) {
            ListenerConfig l = all.get(i);
            Listener bound = bind(l, new FrontendInitializer.Options(tls.listener(i),
                    l.redirectHttps() ? redirect : null, l.address().h2c(), l.proxyProtocol()));
            listeners.put(keys.get(i), bound);
            listenerConfigs.put(keys.get(i), l);
        }
        pointRedirect();
        for (Listener l : listeners.values()) {
            LOG.info("listening on {}", l.boundText());
        }
    }

    private Listener bind(ListenerConfig listener, FrontendInitializer.Options options) {
        ListenAddress a = listener.address();
        // One initializer per listener: limits.max_connections counts per listener.
        FrontendInitializer init = new FrontendInitializer(this, options);
        ServerBootstrap b = new ServerBootstrap().group(group).channel(serverChannelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(init);
        ChannelFuture f = b.bind(a.host(), a.port()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            String why = c.getMessage() == null ? c.toString() : c.getMessage();
            // Native transports prefix the errno: "bind(..) failed with error(-98): Address already in use".
            why = why.substring(why.lastIndexOf("): ") < 0 ? 0 : why.lastIndexOf("): ") + 3);
            BindException e = new BindException("cannot listen on " + a + ": " + why);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (listener.http3() && options.tls() != null) {
            init.http3(Http3Listener.bind(this, group, (InetSocketAddress) f.channel().localAddress(), options.tls(),
                    options.tls().keyPath().replaceFirst("\\.tls$", "")));
        }
        return new Listener(f.channel(), init);
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

    /** @return the live upstreams (load balancing state), for operations and tests */
    public List<UpstreamGroup> upstreams() {
        return upstreams.upstreams();
    }

    /** @return the meters of the running configuration's routes, in configuration order (the dashboard) */
    public List<dev.portico.internal.metrics.RouteMetrics> routeMeters() {
        return snapshot.routeMetrics();
    }

    /** @return the addresses actually bound, in config order */
    public synchronized List<InetSocketAddress> boundAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Listener l : listeners.values()) {
            out.add((InetSocketAddress) l.channel().localAddress());
        }
        return out;
    }

    /** @return the cache policies of the running configuration (for purges) */
    public List<CachePolicy> caches() {
        return snapshot.policies.caches();
    }

    /** @return the configuration new exchanges use */
    public ProxyConfig config() {
        return snapshot.config;
    }

    /** @return what a new exchange reads from the configuration; read once per exchange */
    Snapshot snapshot() {
        return snapshot;
    }

    /** @return the response bytes held for clients, against {@code limits.max_buffered_bytes} */
    BufferBudget buffered() {
        return buffered;
    }

    /** @return the metrics of this proxy */
    public Metrics metrics() {
        return metrics;
    }

    /** @return the access log */
    public AccessLog accessLog() {
        return accessLog;
    }

    /** @return whether the proxy is listening and not shutting down ({@code /readyz}) */
    public boolean ready() {
        return ready && !draining;
    }

    /** The first step of a graceful shutdown: report not ready, keep serving. */
    public void markNotReady() {
        ready = false;
    }

    UpstreamPool pool(EventLoop loop) {
        return pools.get(loop);
    }

    boolean draining() {
        return draining;
    }

    /** @return the idle timers of {@code loop}'s HTTP/1.1 client connections */
    IdleSweep idleSweep(EventExecutor loop) {
        return sweeps.computeIfAbsent(loop, IdleSweep::new);
    }

    /** @return the open client connections */
    ConnectionRegistry connections() {
        return connections;
    }

    /**
     * A connection of a listener speaks HTTP now (it is in {@link #connections()} since it was accepted): one that
     * opens while the proxy shuts down closes.
     */
    void connectionOpened(Channel ch) {
        if (draining) {
            ch.close();
        }
    }

    /** A QUIC connection opened: the shutdown waits for it too, and closes it if it is still open at the end. */
    void quicConnectionOpened(Channel ch) {
        connections.add(ch, null, true);
        connectionOpened(ch);
    }

    void logRejected(Channel ch, HttpRequest request, ProxyFailure failure) {
        LOG.warn("{} rejected {}: {} ({})", ch.id().asShortText(),
                request == null ? "-" : request.method() + " " + ExchangeLog.printableTarget(request.uri()),
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

    /**
     * Graceful shutdown: stop accepting, close idle connections, let in-flight exchanges finish (their responses
     * close the connection) for up to {@code drain}, then close what is left and stop the event loops.
     *
     * @param drain the longest wait for in-flight exchanges
     */
    public void stop(Duration drain) {
        stop(drain, () -> false);
    }

    /**
     * A graceful shutdown that {@code cutShort} can end early: once it answers true, what is left is closed at once.
     *
     * @param drain the longest wait for in-flight exchanges
     * @param cutShort polled while waiting; true to stop waiting (a fast shutdown)
     */
    public void stop(Duration drain, BooleanSupplier cutShort) {
        ready = false;
        draining = true;
        synchronized (this) {
            for (Listener l : listeners.values()) {
                l.channel().close().awaitUninterruptibly();
            }
        }
        synchronized (this) {
            listeners.values().forEach(l -> l.initializer().drain());
        }
        long deadline = System.nanoTime() + drain.toNanos();
        while (connections.serving() > 0 && System.nanoTime() < deadline && !cutShort.getAsBoolean()) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = connections.serving();
        if (left > 0) {
            LOG.warn("{}: closing {} connections with exchanges in flight",
                    cutShort.getAsBoolean() ? "fast shutdown" : "drain timeout", left);
        }
        shutdownNow();
    }

    private void shutdownNow() {
        ready = false;
        draining = true;
        List<ChannelFuture> closing = new ArrayList<>();
        for (Channel ch : connections.servingChannels()) {
            closing.add(ch.close());
        }
        closing.forEach(ChannelFuture::awaitUninterruptibly);
        synchronized (this) {
            listeners.values().forEach(l -> l.initializer().closeHttp3()); // the QUIC codec frees native memory
        }
        for (UpstreamPool p : pools.values()) {
            p.close();
        }
        upstreams.close();
        if (snapshot != null) {
            snapshot.policies.close();
        }
        tls.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        accessLog.close();
        traces.close();
        metrics.close();
    }
}
