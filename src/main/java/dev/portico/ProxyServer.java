package dev.portico;

import dev.portico.config.AccessLogConfig;
import dev.portico.config.LimitsConfig;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.server.ProxyRuntime;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;

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
    private ProxyRuntime runtime;

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
        this.config = Objects.requireNonNull(config, "config");
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

    /** @return the configuration */
    public ProxyConfig config() {
        return config;
    }

    /**
     * Graceful stop: stop accepting, finish in-flight exchanges for up to {@code timeouts.drain}, then close the
     * rest. Does nothing if not running.
     */
    public synchronized void stop() {
        if (runtime != null) {
            runtime.stop(config.timeouts().drain());
            runtime = null;
        }
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
         * @param timeouts the timeouts
         * @return this
         */
        public Builder timeouts(TimeoutsConfig timeouts) {
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
         * @return the proxy, not yet started
         * @throws dev.portico.config.ConfigException if the configuration is invalid
         */
        public ProxyServer build() {
            return new ProxyServer(config.build());
        }
    }
}
