package dev.portico.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The whole, validated configuration of a Portico instance. Immutable: a reload swaps it as a whole.
 *
 * @param listen the listeners, at least one, no two on the same address
 * @param routes the routes, at least one, no two with the same host and path
 * @param timeouts the timeouts
 * @param limits the request size limits
 * @param workers event loop threads, 0 for one per core
 * @param accessLog the access log settings
 * @param http2 the HTTP/2 limits
 * @param operations admin endpoint, request ids, tracing and reload settings
 * @param policies default policies and trusted proxies
 * @param redis the Redis that {@code rate_limit} policies with {@code store: redis} share, or {@code null}
 */
public record ProxyConfig(List<ListenerConfig> listen, List<RouteConfig> routes, TimeoutsConfig timeouts,
                          LimitsConfig limits, int workers, AccessLogConfig accessLog, Http2Config http2,
                          OperationsConfig operations, PoliciesConfig policies, RedisConfig redis) {
    /** The most event loop threads {@code workers} accepts. */
    public static final int MAX_WORKERS = 1024;

    /** Checks what no single record can: presence, and that no listener or route is given twice. */
    public ProxyConfig {
        listen = List.copyOf(listen);
        routes = List.copyOf(routes);
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(accessLog, "accessLog");
        Objects.requireNonNull(http2, "http2");
        Objects.requireNonNull(operations, "operations");
        Objects.requireNonNull(policies, "policies");
        List<String> problems = problems(listen, routes, workers);
        problems.addAll(policyProblems(listen, policies));
        problems.addAll(redisProblems(routes, policies, redis));
        if (!problems.isEmpty()) {
            throw new ConfigException("configuration", problems);
        }
    }

    /**
     * A configuration without a {@code redis:} section.
     *
     * @param listen the addresses to listen on
     * @param routes the routes
     * @param timeouts the timeouts
     * @param limits the request size limits
     * @param workers event loop threads, 0 for one per core
     * @param accessLog the access log settings
     * @param http2 the HTTP/2 limits
     * @param operations admin endpoint, request ids, tracing and reload settings
     * @param policies default policies and trusted proxies
     */
    public ProxyConfig(List<ListenerConfig> listen, List<RouteConfig> routes, TimeoutsConfig timeouts,
                       LimitsConfig limits, int workers, AccessLogConfig accessLog, Http2Config http2,
                       OperationsConfig operations, PoliciesConfig policies) {
        this(listen, routes, timeouts, limits, workers, accessLog, http2, operations, policies, null);
    }

    /**
     * A configuration with the default HTTP/2 limits and operations settings.
     *
     * @param listen the addresses to listen on
     * @param routes the routes
     * @param timeouts the timeouts
     * @param limits the request size limits
     * @param workers event loop threads, 0 for one per core
     * @param accessLog the access log settings
     */
    public ProxyConfig(List<ListenerConfig> listen, List<RouteConfig> routes, TimeoutsConfig timeouts,
                       LimitsConfig limits, int workers, AccessLogConfig accessLog) {
        this(listen, routes, timeouts, limits, workers, accessLog, Http2Config.DEFAULTS, OperationsConfig.DEFAULTS,
                PoliciesConfig.NONE);
    }

    /**
     * A configuration without default policies or trusted proxies.
     *
     * @param listen the addresses to listen on
     * @param routes the routes
     * @param timeouts the timeouts
     * @param limits the request size limits
     * @param workers event loop threads, 0 for one per core
     * @param accessLog the access log settings
     * @param http2 the HTTP/2 limits
     * @param operations admin endpoint, request ids, tracing and reload settings
     */
    public ProxyConfig(List<ListenerConfig> listen, List<RouteConfig> routes, TimeoutsConfig timeouts,
                       LimitsConfig limits, int workers, AccessLogConfig accessLog, Http2Config http2,
                       OperationsConfig operations) {
        this(listen, routes, timeouts, limits, workers, accessLog, http2, operations, PoliciesConfig.NONE);
    }

    /**
     * The checks across records, as messages with key paths; the YAML loader reports them with its other problems.
     */
    static List<String> problems(List<ListenerConfig> listen, List<RouteConfig> routes, int workers) {
        List<String> problems = new ArrayList<>();
        if (listen.isEmpty()) {
            problems.add("listen: at least one address is required");
        }
        Set<String> seenListen = new HashSet<>();
        for (int i = 0; i < listen.size(); i++) {
            // Port 0 binds a new ephemeral port each time: never the same address twice.
            ListenAddress a = listen.get(i).address();
            if (a.port() != 0 && !seenListen.add(a.host() + ":" + a.port())) {
                problems.add("listen[" + i + "]: " + a + " is listed twice");
            }
        }
        if (routes.isEmpty()) {
            problems.add("routes: at least one route is required");
        }
        Set<String> seenRoutes = new HashSet<>();
        for (int i = 0; i < routes.size(); i++) {
            RouteConfig r = routes.get(i);
            if (!seenRoutes.add(r.host() + " " + r.path())) {
                problems.add("routes[" + i + "]: path " + r.path()
                        + (r.host().isEmpty() ? "" : " for host " + r.host()) + " is routed twice");
            }
        }
        if (workers < 0 || workers > MAX_WORKERS) {
            problems.add("workers: must be between 0 (one per core) and " + MAX_WORKERS + ", got " + workers);
        }
        return problems;
    }

    /** A PROXY protocol listener believes only trusted proxies: without any, it could accept nobody. */
    static List<String> policyProblems(List<ListenerConfig> listen, PoliciesConfig policies) {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < listen.size(); i++) {
            if (listen.get(i).proxyProtocol() && policies.trustedProxies().isEmpty()) {
                problems.add("listen[" + i + "].proxy_protocol: needs trusted_proxies (the load balancers allowed to "
                        + "send the PROXY header)");
            }
        }
        return problems;
    }

    /** A {@code rate_limit} with {@code store: redis} needs the {@code redis:} section. */
    static List<String> redisProblems(List<RouteConfig> routes, PoliciesConfig policies, RedisConfig redis) {
        if (redis != null) {
            return List.of();
        }
        List<PolicyConfig> all = new ArrayList<>(policies.defaults());
        routes.forEach(r -> all.addAll(r.policies()));
        for (PolicyConfig p : all) {
            if (p instanceof RateLimitPolicyConfig r && r.store() == RateLimitPolicyConfig.Store.REDIS) {
                return List.of("redis: is required by rate_limit policy \"" + r.name() + "\" (store: redis)");
            }
        }
        return List.of();
    }

    /**
     * Reads and validates a YAML configuration file.
     *
     * @param file the file
     * @return the configuration
     * @throws ConfigException with every problem found, each naming the file and key path
     */
    public static ProxyConfig load(Path file) {
        return YamlConfigLoader.load(file);
    }

    /**
     * Parses and validates YAML text.
     *
     * @param yaml the YAML document
     * @param source the name used in error messages, e.g. a file name
     * @return the configuration
     * @throws ConfigException with every problem found
     */
    public static ProxyConfig parse(String yaml, String source) {
        return YamlConfigLoader.parse(yaml, source);
    }

    /** @return a builder with every default set and no listener or route */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ProxyConfig}; the only mutable config type. Not thread-safe. */
    public static final class Builder {
        private final List<ListenerConfig> listen = new ArrayList<>();
        private final List<RouteConfig> routes = new ArrayList<>();
        private TimeoutsConfig timeouts = TimeoutsConfig.DEFAULTS;
        private LimitsConfig limits = LimitsConfig.DEFAULTS;
        private int workers;
        private AccessLogConfig accessLog = AccessLogConfig.DEFAULTS;
        private Http2Config http2 = Http2Config.DEFAULTS;
        private OperationsConfig operations = OperationsConfig.DEFAULTS;
        private final List<PolicyConfig> defaultPolicies = new ArrayList<>();
        private final List<Cidr> trustedProxies = new ArrayList<>();
        private RedisConfig redis;

        private Builder() {
        }

        /**
         * @param hostPort {@code host:port} to listen on
         * @return this
         */
        public Builder listen(String hostPort) {
            listen.add(ListenerConfig.plain(ListenAddress.parse(hostPort)));
            return this;
        }

        /**
         * @param host the host to bind
         * @param port the port, 0 for an ephemeral one
         * @return this
         */
        public Builder listen(String host, int port) {
            listen.add(ListenerConfig.plain(new ListenAddress(host, port)));
            return this;
        }

        /**
         * @param listener a listener with its TLS or redirect settings
         * @return this
         */
        public Builder listen(ListenerConfig listener) {
            listen.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * @param address an address to listen on, with its options
         * @return this
         */
        public Builder listen(ListenAddress address) {
            listen.add(ListenerConfig.plain(Objects.requireNonNull(address, "address")));
            return this;
        }

        /**
         * Adds a listener made with a {@link ListenerConfig.Builder}, e.g.
         * {@code listen(l -> l.address("0.0.0.0:8443").tls(t -> t.certificate(cert, key)))}.
         *
         * @param listener sets the listener's keys; {@code address} is required
         * @return this
         */
        public Builder listen(UnaryOperator<ListenerConfig.Builder> listener) {
            listen.add(listener.apply(ListenerConfig.builder()).build());
            return this;
        }

        /**
         * @param value the HTTP/2 limits
         * @return this
         */
        public Builder http2(Http2Config value) {
            this.http2 = Objects.requireNonNull(value, "http2");
            return this;
        }

        /**
         * @param value sets {@code http2} keys, starting from the current limits (the defaults unless set before)
         * @return this
         */
        public Builder http2(UnaryOperator<Http2Config.Builder> value) {
            this.http2 = value.apply(new Http2Config.Builder(http2)).build();
            return this;
        }

        /**
         * Adds a route for any host.
         *
         * @param path the path prefix
         * @param upstreamUrl the backend URL
         * @return this
         */
        public Builder route(String path, String upstreamUrl) {
            routes.add(RouteConfig.of(path, upstreamUrl));
            return this;
        }

        /**
         * Adds routes from a map of path prefix to upstream URL (the short form), in the map's iteration order.
         *
         * @param routeMap path prefix to backend URL
         * @return this
         */
        public Builder routes(Map<String, String> routeMap) {
            Objects.requireNonNull(routeMap, "routes").forEach(this::route);
            return this;
        }

        /**
         * @param route a route in long form
         * @return this
         */
        public Builder route(RouteConfig route) {
            routes.add(Objects.requireNonNull(route, "route"));
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
            routes.add(route.apply(RouteConfig.builder(path)).build());
            return this;
        }

        /**
         * @param value the timeouts
         * @return this
         */
        public Builder timeouts(TimeoutsConfig value) {
            this.timeouts = Objects.requireNonNull(value, "timeouts");
            return this;
        }

        /**
         * Sets {@code timeouts} keys, e.g. {@code timeouts(t -> t.connect(Duration.ofSeconds(2)))}.
         *
         * @param value sets the keys, starting from the current timeouts (the defaults unless set before)
         * @return this
         */
        public Builder timeouts(UnaryOperator<TimeoutsConfig.Builder> value) {
            this.timeouts = value.apply(new TimeoutsConfig.Builder(timeouts)).build();
            return this;
        }

        /**
         * @param value the limits
         * @return this
         */
        public Builder limits(LimitsConfig value) {
            this.limits = Objects.requireNonNull(value, "limits");
            return this;
        }

        /**
         * @param value sets {@code limits} keys, starting from the current limits (the defaults unless set before)
         * @return this
         */
        public Builder limits(UnaryOperator<LimitsConfig.Builder> value) {
            this.limits = value.apply(new LimitsConfig.Builder(limits)).build();
            return this;
        }

        /**
         * @param value event loop threads, 0 for one per core
         * @return this
         */
        public Builder workers(int value) {
            this.workers = value;
            return this;
        }

        /**
         * @param value the access log settings
         * @return this
         */
        public Builder accessLog(AccessLogConfig value) {
            this.accessLog = Objects.requireNonNull(value, "accessLog");
            return this;
        }

        /**
         * @param value sets {@code access_log} keys, starting from the current settings (the defaults unless set
         *     before)
         * @return this
         */
        public Builder accessLog(UnaryOperator<AccessLogConfig.Builder> value) {
            this.accessLog = value.apply(new AccessLogConfig.Builder(accessLog)).build();
            return this;
        }

        /**
         * @param value admin endpoint, request id, tracing and reload settings
         * @return this
         */
        public Builder operations(OperationsConfig value) {
            this.operations = Objects.requireNonNull(value, "operations");
            return this;
        }

        /**
         * Sets the keys of {@code admin}, {@code request_id}, {@code tracing} and {@code reload}, e.g.
         * {@code operations(o -> o.adminListen("127.0.0.1:9901"))}.
         *
         * @param value sets the keys, starting from the current settings (the defaults unless set before)
         * @return this
         */
        public Builder operations(UnaryOperator<OperationsConfig.Builder> value) {
            this.operations = value.apply(new OperationsConfig.Builder(operations)).build();
            return this;
        }

        /**
         * Adds policies applied to every route before its own (unless it skips them), and to responses without a
         * route.
         *
         * @param policies the policies, in order
         * @return this
         */
        public Builder defaultPolicies(PolicyConfig... policies) {
            for (PolicyConfig p : policies) {
                defaultPolicies.add(Objects.requireNonNull(p, "policy"));
            }
            return this;
        }

        /**
         * @param value the Redis that {@code rate_limit} policies with {@code store: redis} share
         * @return this
         */
        public Builder redis(RedisConfig value) {
            this.redis = Objects.requireNonNull(value, "redis");
            return this;
        }

        /**
         * Sets the {@code redis:} section, e.g. {@code redis("redis://127.0.0.1:6379", r -> r.timeout(...))}.
         *
         * @param url the Redis URL, possibly with credentials
         * @param value sets the other keys
         * @return this
         */
        public Builder redis(String url, UnaryOperator<RedisConfig.Builder> value) {
            this.redis = value.apply(RedisConfig.builder(url)).build();
            return this;
        }

        /**
         * Adds peers whose {@code X-Forwarded-For} and PROXY protocol header are believed.
         *
         * @param blocks CIDR blocks or addresses, e.g. {@code 10.0.0.0/8}
         * @return this
         */
        public Builder trustedProxies(String... blocks) {
            for (String b : blocks) {
                trustedProxies.add(Cidr.parse(b));
            }
            return this;
        }

        /**
         * @return the validated configuration
         * @throws ConfigException if it is not valid
         */
        public ProxyConfig build() {
            return new ProxyConfig(listen, routes, timeouts, limits, workers, accessLog, http2, operations,
                    new PoliciesConfig(defaultPolicies, trustedProxies), redis);
        }
    }
}
