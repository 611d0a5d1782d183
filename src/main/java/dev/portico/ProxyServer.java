package dev.portico;

import dev.portico.config.AccessLogConfig;
import dev.portico.config.Http2Config;
import dev.portico.config.LimitsConfig;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.config.OperationsConfig;
import dev.portico.internal.ops.Operations;
import dev.portico.config.ReloadResult;
import dev.portico.internal.server.ProxyRuntime;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * An embeddable Portico reverse proxy.
 *
 * <pre>{@code
 * ProxyServer proxy = new ProxyServer("localhost", 8080, Map.of("/api", "http://localhost:8000"));
 * proxy.start();   // returns once bound
 * proxy.stop();    // graceful
 * }</pre>
 *
 * Thread-safe: start and stop may be called from any thread.
 */
public final class ProxyServer implements AutoCloseable {
    private final ProxyConfig config;
    private final Path configFile;
    private ProxyRuntime runtime;
    /** Read without the lock: a reload or a reopen must not wait for a graceful stop to end. */
    private volatile Operations ops;
    /** Set by {@link #stopNow()}, read by a graceful stop in progress on another thread. */
    private volatile boolean hurry;

    /**
     * A proxy on one address with routes given as path prefix to upstream URL.
     *
     * @param host the host to listen on
     * @param port the port, 0 for an ephemeral one
     * @param routes path prefix to backend URL, e.g. {@code "/api" -> "http://localhost:8000"}
     * @throws dev.portico.config.ConfigException if a route is invalid
     */
    public ProxyServer(String host, int port, Map<String, String> routes) {
        this(ProxyConfig.builder().listen(host, port).routes(routes).build());
    }

    /**
     * A proxy for a full configuration, e.g. from {@link ProxyConfig#load(java.nio.file.Path)}.
     *
     * @param config the configuration
     */
    public ProxyServer(ProxyConfig config) {
        this(config, null);
    }

    /**
     * A proxy for a configuration loaded from a file, which {@link #reload()} (and SIGHUP, {@code POST /reload},
     * {@code reload.watch}) reads again.
     *
     * @param config the configuration, from {@link ProxyConfig#load(Path)}
     * @param configFile the file it came from, or {@code null}
     */
    public ProxyServer(ProxyConfig config, Path configFile) {
        this.config = Objects.requireNonNull(config, "config");
        this.configFile = configFile;
    }

    /** @return a builder for everything the YAML file can say */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds every listener and starts serving. Returns once bound.
     *
     * @return this
     * @throws IllegalStateException if already started
     * @throws java.io.UncheckedIOException if an address cannot be bound or a backend name does not resolve
     * @throws dev.portico.config.ConfigException if a certificate, key or CA file is missing or bad
     */
    public synchronized ProxyServer start() {
        if (runtime != null) {
            throw new IllegalStateException("already started");
        }
        runtime = ProxyRuntime.start(config);
        try {
            ops = Operations.start(runtime, configFile);
        } catch (RuntimeException e) {
            runtime.stop(Duration.ZERO);
            runtime = null;
            throw e;
        }
        return this;
    }

    /**
     * Re-reads the TLS certificate and key files that changed since they were last read, as Portico also does by
     * itself every few seconds. A bad file keeps the current certificates (and is logged); connections stay open.
     *
     * @return how many listeners took new certificates
     */
    public synchronized int reloadCertificates() {
        if (runtime == null) {
            throw new IllegalStateException("not started");
        }
        return runtime.reloadCertificates();
    }

    /**
     * Reloads the configuration file: parsed and validated off the event loops; if valid it replaces the running
     * configuration for new exchanges, without closing a connection (listeners removed drain), else nothing
     * changes and the problems are returned (and logged).
     *
     * @return the outcome, once known
     * @throws IllegalStateException if not running
     */
    public CompletableFuture<ReloadResult> reload() {
        return reload("reload()");
    }

    /** @param why what asked for the reload, for the log (e.g. {@code SIGHUP}) */
    CompletableFuture<ReloadResult> reload(String why) {
        return operations().reload(why);
    }

    /** Reopens the access log file, after log rotation moved it (what SIGUSR1 does). */
    public void reopenAccessLog() {
        operations().reopenAccessLog();
    }

    /** @return the admin endpoint's bound address, or {@code null} if {@code admin.listen} is not set */
    public InetSocketAddress adminAddress() {
        return operations().adminAddress();
    }

    private Operations operations() {
        Operations o = ops;
        if (o == null) {
            throw new IllegalStateException("not started");
        }
        return o;
    }

    /** @return the bound port of the first listener */
    public synchronized int port() {
        return addresses().get(0).getPort();
    }

    /** @return the bound address of every listener, in config order */
    public synchronized List<InetSocketAddress> addresses() {
        if (runtime == null) {
            throw new IllegalStateException("not started");
        }
        return runtime.boundAddresses();
    }

    /** @return the running configuration (the last one reloaded), or the initial one if not running */
    public synchronized ProxyConfig config() {
        return runtime != null ? runtime.config() : config;
    }

    /**
     * Graceful stop: {@code /readyz} turns 503 and serving goes on for {@code timeouts.drain_delay} (so load
     * balancers notice), then stop accepting, close idle connections, finish in-flight exchanges (their responses
     * say {@code Connection: close}) for up to {@code timeouts.drain}, and close the rest. Does nothing if not
     * running.
     */
    public synchronized void stop() {
        if (runtime != null) {
            TimeoutsConfig timeouts = runtime.config().timeouts();
            runtime.markNotReady();
            long delayEnd = System.nanoTime() + timeouts.drainDelay().toNanos();
            while (!hurry && System.nanoTime() < delayEnd) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            runtime.stop(timeouts.drain(), () -> hurry);
            ops.close();
            runtime = null;
            ops = null;
        }
    }

    /**
     * Cuts a graceful stop short, as a second SIGTERM does: a {@link #stop()} under way (or the next one) stops
     * waiting for the drain delay and for exchanges in flight, and closes every connection at once. Does not wait;
     * safe from any thread, also while {@link #stop()} runs on another.
     */
    public void stopNow() {
        hurry = true;
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /** Builds a {@link ProxyServer}; each call maps to a key of the YAML configuration. */
    public static final class Builder {
        private final ProxyConfig.Builder config = ProxyConfig.builder();

        private Builder() {
        }

        /**
         * @param hostPort {@code host:port} ({@code listen})
         * @return this
         */
        public Builder listen(String hostPort) {
            config.listen(hostPort);
            return this;
        }

        /**
         * @param host the host to bind
         * @param port the port, 0 for an ephemeral one
         * @return this
         */
        public Builder listen(String host, int port) {
            config.listen(host, port);
            return this;
        }

        /**
         * @param listener a listener with its TLS or redirect settings ({@code listen} in mapping form)
         * @return this
         */
        public Builder listen(ListenerConfig listener) {
            config.listen(listener);
            return this;
        }

        /**
         * @param listener sets a listener's keys ({@code listen} in mapping form), e.g.
         *     {@code l -> l.address("0.0.0.0:8443").tls(t -> t.certificate(cert, key))}
         * @return this
         */
        public Builder listen(UnaryOperator<ListenerConfig.Builder> listener) {
            config.listen(listener);
            return this;
        }

        /**
         * @param path the path prefix
         * @param upstreamUrl the backend URL
         * @return this
         */
        public Builder route(String path, String upstreamUrl) {
            config.route(path, upstreamUrl);
            return this;
        }

        /**
         * @param route a route in long form
         * @return this
         */
        public Builder route(RouteConfig route) {
            config.route(route);
            return this;
        }

        /**
         * Adds a route made with a {@link RouteConfig.Builder}, e.g.
         * {@code route("/api", r -> r.upstream("http://127.0.0.1:8000").policies(...))}.
         *
         * @param path the path prefix
         * @param route sets the route's other keys
         * @return this
         */
        public Builder route(String path, UnaryOperator<RouteConfig.Builder> route) {
            config.route(path, route);
            return this;
        }

        /**
         * @param policies {@code default_policies}: applied to every route before its own, and to responses
         *     without a route
         * @return this
         */
        public Builder defaultPolicies(dev.portico.config.PolicyConfig... policies) {
            config.defaultPolicies(policies);
            return this;
        }

        /**
         * @param blocks {@code trusted_proxies}: CIDR blocks whose {@code X-Forwarded-For} is believed
         * @return this
         */
        public Builder trustedProxies(String... blocks) {
            config.trustedProxies(blocks);
            return this;
        }

        /**
         * @param timeouts the timeouts
         * @return this
         */
        public Builder timeouts(TimeoutsConfig timeouts) {
            config.timeouts(timeouts);
            return this;
        }

        /**
         * @param timeouts sets {@code timeouts} keys, e.g. {@code t -> t.connect(Duration.ofSeconds(2))}
         * @return this
         */
        public Builder timeouts(UnaryOperator<TimeoutsConfig.Builder> timeouts) {
            config.timeouts(timeouts);
            return this;
        }

        /**
         * @param limits the request limits
         * @return this
         */
        public Builder limits(LimitsConfig limits) {
            config.limits(limits);
            return this;
        }

        /**
         * @param limits sets {@code limits} keys, e.g. {@code l -> l.maxRequestBody(10 << 20)}
         * @return this
         */
        public Builder limits(UnaryOperator<LimitsConfig.Builder> limits) {
            config.limits(limits);
            return this;
        }

        /**
         * @param http2 the HTTP/2 limits
         * @return this
         */
        public Builder http2(Http2Config http2) {
            config.http2(http2);
            return this;
        }

        /**
         * @param http2 sets {@code http2} keys, e.g. {@code h -> h.maxConcurrentStreams(50)}
         * @return this
         */
        public Builder http2(UnaryOperator<Http2Config.Builder> http2) {
            config.http2(http2);
            return this;
        }

        /**
         * @param workers event loop threads, 0 for one per core
         * @return this
         */
        public Builder workers(int workers) {
            config.workers(workers);
            return this;
        }

        /**
         * @param accessLog access log settings
         * @return this
         */
        public Builder accessLog(AccessLogConfig accessLog) {
            config.accessLog(accessLog);
            return this;
        }

        /**
         * @param accessLog sets {@code access_log} keys, e.g. {@code a -> a.format(AccessLogConfig.Format.JSON)}
         * @return this
         */
        public Builder accessLog(UnaryOperator<AccessLogConfig.Builder> accessLog) {
            config.accessLog(accessLog);
            return this;
        }

        /**
         * @param operations admin endpoint, request id, tracing and reload settings
         * @return this
         */
        public Builder operations(OperationsConfig operations) {
            config.operations(operations);
            return this;
        }

        /**
         * @param operations sets {@code admin}, {@code request_id}, {@code tracing} and {@code reload} keys, e.g.
         *     {@code o -> o.adminListen("127.0.0.1:9901")}
         * @return this
         */
        public Builder operations(UnaryOperator<OperationsConfig.Builder> operations) {
            config.operations(operations);
            return this;
        }

        /**
         * @return the proxy, not yet started
         * @throws dev.portico.config.ConfigException if the configuration is invalid
         */
        public ProxyServer build() {
            return new ProxyServer(config.build());
        }
    }
}
