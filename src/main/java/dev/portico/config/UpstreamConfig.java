package dev.portico.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A group of servers one or more routes send to, and how a request picks one of them.
 *
 * @param name the name under {@code upstreams:}, or {@code ""} for one a route defines by URL
 * @param servers the servers, at least one; all share one URL path
 * @param balance how an endpoint is picked
 * @param hashOn for {@link Balance#HASH}: what is hashed, e.g. {@code header:X-User-Id}; {@code null} otherwise
 * @param healthCheck the active health check, or {@code null} for none
 * @param passive outlier ejection from live traffic
 * @param retry when a try is sent again
 * @param maxConnections connections per endpoint, 0 for unlimited
 * @param maxPending requests waiting for a connection when every endpoint is at {@code maxConnections}; more get
 *     503 at once
 * @param slowStart how long a recovered endpoint takes to ramp up to its full share, {@link Duration#ZERO} for off
 * @param tls how to talk TLS to the {@code https://} servers ({@link UpstreamTlsConfig#DEFAULTS} if there are
 *     some and it is not given); {@code null} when every server is {@code http://}
 * @param sendProxyProtocol whether each new backend connection opens with a PROXY protocol header naming the client
 *     ({@code send_proxy_protocol}); such a connection serves one client connection only, never the pool
 * @param protocol what the backends speak ({@code protocol}); {@link Protocol#HTTP1} unless set
 * @param http2 how streams are multiplexed when the backends speak HTTP/2 ({@code http2})
 */
public record UpstreamConfig(String name, List<ServerConfig> servers, Balance balance, String hashOn,
                             HealthCheckConfig healthCheck, PassiveConfig passive, RetryConfig retry,
                             int maxConnections, int maxPending, Duration slowStart, UpstreamTlsConfig tls,
                             SendProxyProtocol sendProxyProtocol, Protocol protocol, UpstreamHttp2Config http2) {

    /** What Portico speaks to an upstream's servers. */
    public enum Protocol {
        /** HTTP/1.1 with pooled keep-alive connections: the default. */
        HTTP1,
        /** HTTP/2 in cleartext with prior knowledge; {@code http://} servers only. */
        H2C,
        /** HTTP/2 over TLS (ALPN {@code h2}); {@code https://} servers only. */
        H2,
        /** HTTP/2 over TLS if the server offers {@code h2} in ALPN, else HTTP/1.1; {@code https://} servers only. */
        AUTO;

        /**
         * @param text the config value
         * @return the protocol
         */
        public static Protocol parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "http1" -> HTTP1;
                case "h2c" -> H2C;
                case "h2" -> H2;
                case "auto" -> AUTO;
                default -> throw new IllegalArgumentException("expected http1, h2c, h2 or auto, got \"" + text
                        + "\"");
            };
        }
    }

    /** The PROXY protocol header sent at the start of each backend connection, if any. */
    public enum SendProxyProtocol {
        /** None: the default. */
        OFF,
        /** The text form (PROXY protocol version 1). */
        V1,
        /** The binary form (PROXY protocol version 2). */
        V2;

        /**
         * @param text the config value
         * @return the version
         */
        public static SendProxyProtocol parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            if (t.equals("v1")) {
                return V1;
            }
            if (t.equals("v2")) {
                return V2;
            }
            throw new IllegalArgumentException("expected v1 or v2, got \"" + text + "\"");
        }
    }

    /** Endpoint selection policies. */
    public enum Balance {
        /** Smooth weighted round robin. */
        ROUND_ROBIN,
        /** The less busy of two random endpoints (by requests in flight over weight). */
        LEAST_REQUEST,
        /** Weighted random. */
        RANDOM,
        /** Consistent hashing of {@code hash_on}. */
        HASH;

        /**
         * @param text the config value
         * @return the policy
         */
        public static Balance parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown policy \"" + text
                        + "\" (known: round_robin, least_request, random, hash)");
            }
        }
    }

    /** Validates every field. */
    public UpstreamConfig {
        Objects.requireNonNull(name, "name");
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("servers must list at least one server");
        }
        String path = servers.get(0).url().path();
        for (ServerConfig s : servers) {
            if (!s.url().path().equals(path)) {
                throw new IllegalArgumentException("servers must all have the same URL path, got \"" + path
                        + "\" and \"" + s.url().path() + "\"");
            }
        }
        Objects.requireNonNull(balance, "balance");
        if (balance == Balance.HASH) {
            if (hashOn == null) {
                throw new IllegalArgumentException("hash_on is required with balance: hash");
            }
            checkHashOn(hashOn);
        } else if (hashOn != null) {
            throw new IllegalArgumentException("hash_on applies to balance: hash only");
        }
        Objects.requireNonNull(passive, "passive");
        Objects.requireNonNull(retry, "retry");
        ConfigValues.inRange(maxConnections, 0, 1_000_000, "max_connections");
        ConfigValues.inRange(maxPending, 0, 1_000_000, "max_pending");
        Objects.requireNonNull(slowStart, "slow_start");
        if (slowStart.isNegative()) {
            throw new IllegalArgumentException("slow_start must not be negative");
        }
        boolean anyTls = servers.stream().anyMatch(s -> s.url().tls());
        if (anyTls && tls == null) {
            tls = UpstreamTlsConfig.DEFAULTS;
        } else if (!anyTls && tls != null) {
            throw new IllegalArgumentException("tls needs https:// servers");
        }
        Objects.requireNonNull(sendProxyProtocol, "send_proxy_protocol");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(http2, "http2");
        checkProtocol(protocol, servers, sendProxyProtocol);
    }

    /** {@code h2c} is cleartext, {@code h2} and {@code auto} choose by ALPN: each needs servers of its kind. */
    private static void checkProtocol(Protocol protocol, List<ServerConfig> servers, SendProxyProtocol proxy) {
        for (ServerConfig s : servers) {
            if (protocol == Protocol.H2C && s.url().tls()) {
                throw new IllegalArgumentException("protocol h2c needs http:// servers, got " + s.url()
                        + " (use h2 or auto for https://)");
            }
            if ((protocol == Protocol.H2 || protocol == Protocol.AUTO) && !s.url().tls()) {
                throw new IllegalArgumentException("protocol " + protocol.name().toLowerCase(Locale.ROOT)
                        + " needs https:// servers, got " + s.url() + " (use h2c for http://)");
            }
        }
        if (protocol != Protocol.HTTP1 && proxy != SendProxyProtocol.OFF) {
            // A PROXY header names one client: a connection multiplexing many clients' streams cannot carry it.
            throw new IllegalArgumentException("send_proxy_protocol needs protocol http1");
        }
    }

    /** An upstream speaking HTTP/1.1. */
    public UpstreamConfig(String name, List<ServerConfig> servers, Balance balance, String hashOn,
                          HealthCheckConfig healthCheck, PassiveConfig passive, RetryConfig retry,
                          int maxConnections, int maxPending, Duration slowStart, UpstreamTlsConfig tls,
                          SendProxyProtocol sendProxyProtocol) {
        this(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections, maxPending, slowStart,
                tls, sendProxyProtocol, Protocol.HTTP1, UpstreamHttp2Config.DEFAULTS);
    }

    /** An upstream that sends no PROXY protocol header. */
    public UpstreamConfig(String name, List<ServerConfig> servers, Balance balance, String hashOn,
                          HealthCheckConfig healthCheck, PassiveConfig passive, RetryConfig retry,
                          int maxConnections, int maxPending, Duration slowStart, UpstreamTlsConfig tls) {
        this(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections, maxPending, slowStart,
                tls, SendProxyProtocol.OFF);
    }

    /** An upstream with the default TLS settings for its {@code https://} servers, if any. */
    public UpstreamConfig(String name, List<ServerConfig> servers, Balance balance, String hashOn,
                          HealthCheckConfig healthCheck, PassiveConfig passive, RetryConfig retry,
                          int maxConnections, int maxPending, Duration slowStart) {
        this(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections, maxPending, slowStart,
                null);
    }

    /** @return whether some server is reached over TLS */
    public boolean anyTls() {
        return tls != null;
    }

    /**
     * @param value the TLS settings
     * @return this upstream with them
     */
    public UpstreamConfig withTls(UpstreamTlsConfig value) {
        return new UpstreamConfig(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections,
                maxPending, slowStart, value, sendProxyProtocol, protocol, http2);
    }

    /**
     * @param value the PROXY protocol header to open each backend connection with
     * @return this upstream with it
     */
    public UpstreamConfig withSendProxyProtocol(SendProxyProtocol value) {
        return new UpstreamConfig(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections,
                maxPending, slowStart, tls, value, protocol, http2);
    }

    /**
     * An unnamed upstream with the defaults.
     *
     * @param urls the servers' URLs, each of weight 1
     * @return the upstream
     */
    public static UpstreamConfig of(List<UpstreamUrl> urls) {
        return new UpstreamConfig("", urls.stream().map(u -> new ServerConfig(u, 1)).toList(), Balance.ROUND_ROBIN,
                null, null, PassiveConfig.DEFAULTS, RetryConfig.DEFAULTS, 0, 0, Duration.ZERO);
    }

    /**
     * @param url one server's URL
     * @return an unnamed upstream with the defaults
     */
    public static UpstreamConfig of(UpstreamUrl url) {
        return of(List.of(url));
    }

    private static void checkHashOn(String h) {
        if (h.equals("client_ip") || h.equals("path")) {
            return;
        }
        if ((h.startsWith("header:") && h.length() > 7) || (h.startsWith("cookie:") && h.length() > 7)) {
            String name = h.substring(h.indexOf(':') + 1);
            if (name.chars().allMatch(c -> c > ' ' && c < 0x7f && c != ':' && c != ';' && c != '=')) {
                return;
            }
        }
        throw new IllegalArgumentException("hash_on must be header:NAME, cookie:NAME, client_ip or path, got \""
                + h + "\"");
    }

    /** @return the path every server's URL shares, prepended to forwarded targets ({@code ""} for none) */
    public String path() {
        return servers.get(0).url().path();
    }

    /** @return the first server's {@code host:port}: the Host header for a request that had none */
    public String authority() {
        return servers.get(0).url().authority();
    }

    @Override
    public String toString() {
        if (!name.isEmpty()) {
            return name;
        }
        StringBuilder b = new StringBuilder();
        for (ServerConfig s : servers) {
            b.append(b.length() == 0 ? "" : ",").append(s.url());
        }
        return b.toString();
    }

    /** @return a builder for an unnamed upstream (as a route defines by URL) with the defaults and no server yet */
    public static Builder builder() {
        return new Builder("");
    }

    /**
     * @param name the name under {@code upstreams:}, which routes' logs and metrics show
     * @return a builder for a named upstream with the defaults and no server yet
     */
    public static Builder builder(String name) {
        return new Builder(Objects.requireNonNull(name, "name"));
    }

    /**
     * Builds {@link UpstreamConfig}; each method sets the upstream key of its name, the others keep their defaults
     * (round robin, {@link PassiveConfig#DEFAULTS}, {@link RetryConfig#DEFAULTS}, no health check, no connection
     * limits). Not thread-safe.
     */
    public static final class Builder {
        private final String name;
        private final List<ServerConfig> servers = new ArrayList<>();
        private Balance balance = Balance.ROUND_ROBIN;
        private String hashOn;
        private HealthCheckConfig healthCheck;
        private PassiveConfig passive = PassiveConfig.DEFAULTS;
        private RetryConfig retry = RetryConfig.DEFAULTS;
        private int maxConnections;
        private int maxPending;
        private Duration slowStart = Duration.ZERO;
        private UpstreamTlsConfig tls;
        private Protocol protocol = Protocol.HTTP1;
        private UpstreamHttp2Config http2 = UpstreamHttp2Config.DEFAULTS;

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Adds servers of weight 1 ({@code servers}).
         *
         * @param urls {@code http://} or {@code https://} URLs, all with the same path
         * @return this
         * @throws IllegalArgumentException if a URL is not valid
         */
        public Builder servers(String... urls) {
            for (String url : urls) {
                server(url, 1);
            }
            return this;
        }

        /**
         * Adds one server with its weight (an entry of {@code servers} with {@code url} and {@code weight}).
         *
         * @param url an {@code http://} or {@code https://} URL
         * @param weight its share of traffic relative to the others, 1 to {@value ServerConfig#MAX_WEIGHT}
         * @return this
         * @throws IllegalArgumentException if the URL or weight is not valid
         */
        public Builder server(String url, int weight) {
            servers.add(new ServerConfig(UpstreamUrl.parse(url), weight));
            return this;
        }

        /**
         * @param value {@code balance}: how an endpoint is picked
         * @return this
         */
        public Builder balance(Balance value) {
            balance = value;
            return this;
        }

        /**
         * @param value {@code hash_on}: {@code header:NAME}, {@code cookie:NAME}, {@code client_ip} or {@code path};
         *     needs {@code balance(Balance.HASH)}
         * @return this
         */
        public Builder hashOn(String value) {
            hashOn = value;
            return this;
        }

        /**
         * @param value {@code health_check}: the active health check, {@code null} for none
         * @return this
         */
        public Builder healthCheck(HealthCheckConfig value) {
            healthCheck = value;
            return this;
        }

        /**
         * Sets {@code health_check} through a builder, e.g. {@code healthCheck("/healthz", h -> h.interval(...))}.
         *
         * @param path {@code health_check.path}: the request target
         * @param value sets the other keys, starting from the defaults
         * @return this
         */
        public Builder healthCheck(String path, UnaryOperator<HealthCheckConfig.Builder> value) {
            healthCheck = value.apply(HealthCheckConfig.builder(path)).build();
            return this;
        }

        /**
         * @param value {@code passive}: outlier ejection from live traffic
         * @return this
         */
        public Builder passive(PassiveConfig value) {
            passive = value;
            return this;
        }

        /**
         * @param value sets {@code passive} keys, starting from the current settings
         * @return this
         */
        public Builder passive(UnaryOperator<PassiveConfig.Builder> value) {
            passive = value.apply(new PassiveConfig.Builder(passive)).build();
            return this;
        }

        /**
         * @param value {@code retry}: when a failed try is sent again
         * @return this
         */
        public Builder retry(RetryConfig value) {
            retry = value;
            return this;
        }

        /**
         * @param value sets {@code retry} keys, starting from the current settings
         * @return this
         */
        public Builder retry(UnaryOperator<RetryConfig.Builder> value) {
            retry = value.apply(new RetryConfig.Builder(retry)).build();
            return this;
        }

        /**
         * @param count {@code max_connections}: connections per endpoint, 0 for unlimited
         * @return this
         */
        public Builder maxConnections(int count) {
            maxConnections = count;
            return this;
        }

        /**
         * @param count {@code max_pending}: requests waiting for a connection when every endpoint is at
         *     {@code max_connections}
         * @return this
         */
        public Builder maxPending(int count) {
            maxPending = count;
            return this;
        }

        /**
         * @param value {@code slow_start}: how long a recovered endpoint takes to reach its full share, zero for off
         * @return this
         */
        public Builder slowStart(Duration value) {
            slowStart = value;
            return this;
        }

        /**
         * @param value {@code tls}: how to talk TLS to the {@code https://} servers
         * @return this
         */
        public Builder tls(UpstreamTlsConfig value) {
            tls = value;
            return this;
        }

        /**
         * @param value sets {@code tls} keys, starting from {@link UpstreamTlsConfig#DEFAULTS}
         * @return this
         */
        public Builder tls(UnaryOperator<UpstreamTlsConfig.Builder> value) {
            tls = value.apply(UpstreamTlsConfig.builder()).build();
            return this;
        }

        /**
         * @param value {@code protocol}: what the servers speak
         * @return this
         */
        public Builder protocol(Protocol value) {
            protocol = value;
            return this;
        }

        /**
         * @param value {@code http2}: stream and connection settings for HTTP/2 servers
         * @return this
         */
        public Builder http2(UpstreamHttp2Config value) {
            http2 = value;
            return this;
        }

        /**
         * @param value sets {@code http2} keys, starting from the current settings
         * @return this
         */
        public Builder http2(UnaryOperator<UpstreamHttp2Config.Builder> value) {
            http2 = value.apply(UpstreamHttp2Config.builder().maxStreamsPerConnection(http2.maxStreamsPerConnection())
                    .connectionsPerEndpoint(http2.connectionsPerEndpoint()).pingInterval(http2.pingInterval()))
                    .build();
            return this;
        }

        /**
         * @return the upstream
         * @throws IllegalArgumentException if there is no server, paths differ, or a value is not valid
         */
        public UpstreamConfig build() {
            return new UpstreamConfig(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections,
                    maxPending, slowStart, tls, SendProxyProtocol.OFF, protocol, http2);
        }
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamConfig other && Objects.equals(name, other.name)
                && Objects.equals(servers, other.servers) && Objects.equals(balance, other.balance)
                && Objects.equals(hashOn, other.hashOn) && Objects.equals(healthCheck, other.healthCheck)
                && Objects.equals(passive, other.passive) && Objects.equals(retry, other.retry)
                && maxConnections == other.maxConnections && maxPending == other.maxPending
                && Objects.equals(slowStart, other.slowStart) && Objects.equals(tls, other.tls)
                && Objects.equals(sendProxyProtocol, other.sendProxyProtocol)
                && Objects.equals(protocol, other.protocol) && Objects.equals(http2, other.http2);
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(name, servers, balance, hashOn, healthCheck, passive, retry, maxConnections, maxPending,
                slowStart, tls, sendProxyProtocol, protocol, http2);
    }
}
