package dev.portico.config;

import java.time.Duration;

/**
 * The timeouts of the data path.
 *
 * @param connect upstream TCP connect
 * @param response from the request fully sent upstream to the response head
 * @param idle an idle client keep-alive connection, an idle pooled upstream connection, and a stalled transfer
 * @param requestHeader the client must send the whole request head within this
 * @param drain how long a graceful shutdown waits for in-flight exchanges
 * @param tlsHandshake a client on a TLS listener must finish its handshake within this, counted from the accept
 * @param tunnelIdle an upgraded connection (WebSocket) with no bytes either way for this long is closed; it
 *     replaces {@code idle} once the backend switched protocols
 * @param drainDelay how long a graceful shutdown keeps serving, with {@code /readyz} answering 503, before it stops
 *     accepting (so load balancers notice first); zero for none
 */
public record TimeoutsConfig(Duration connect, Duration response, Duration idle, Duration requestHeader,
                             Duration drain, Duration tlsHandshake, Duration tunnelIdle, Duration drainDelay) {
    /** Default {@code timeouts.connect}. */
    public static final Duration DEFAULT_CONNECT = Duration.ofSeconds(5);
    /** Default {@code timeouts.response}. */
    public static final Duration DEFAULT_RESPONSE = Duration.ofSeconds(60);
    /** Default {@code timeouts.idle}. */
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(60);
    /** Default {@code timeouts.request_header}. */
    public static final Duration DEFAULT_REQUEST_HEADER = Duration.ofSeconds(10);
    /** Default {@code timeouts.drain}. */
    public static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);
    /** Default {@code timeouts.tls_handshake}. */
    public static final Duration DEFAULT_TLS_HANDSHAKE = Duration.ofSeconds(10);
    /** Default {@code timeouts.tunnel_idle}. */
    public static final Duration DEFAULT_TUNNEL_IDLE = Duration.ofHours(1);
    /** Default {@code timeouts.drain_delay}. */
    public static final Duration DEFAULT_DRAIN_DELAY = Duration.ZERO;
    /** All defaults. */
    public static final TimeoutsConfig DEFAULTS = new TimeoutsConfig(DEFAULT_CONNECT, DEFAULT_RESPONSE,
            DEFAULT_IDLE, DEFAULT_REQUEST_HEADER, DEFAULT_DRAIN, DEFAULT_TLS_HANDSHAKE, DEFAULT_TUNNEL_IDLE,
            DEFAULT_DRAIN_DELAY);

    /** Every timeout must be positive; the drain delay may be zero. */
    public TimeoutsConfig {
        if (drainDelay == null || drainDelay.isNegative()) {
            throw new IllegalArgumentException("drain_delay must be zero or positive, got " + drainDelay);
        }
        ConfigValues.positive(connect, "connect");
        ConfigValues.positive(response, "response");
        ConfigValues.positive(idle, "idle");
        ConfigValues.positive(requestHeader, "request_header");
        ConfigValues.positive(drain, "drain");
        ConfigValues.positive(tlsHandshake, "tls_handshake");
        ConfigValues.positive(tunnelIdle, "tunnel_idle");
    }

    /**
     * The timeouts with the defaults of {@code tls_handshake} and {@code tunnel_idle}.
     *
     * @param connect upstream TCP connect
     * @param response from the request fully sent upstream to the response head
     * @param idle idle connections and stalled transfers
     * @param requestHeader the client must send the whole request head within this
     * @param drain how long a graceful shutdown waits for in-flight exchanges
     */
    public TimeoutsConfig(Duration connect, Duration response, Duration idle, Duration requestHeader,
                          Duration drain) {
        this(connect, response, idle, requestHeader, drain, DEFAULT_TLS_HANDSHAKE, DEFAULT_TUNNEL_IDLE,
                DEFAULT_DRAIN_DELAY);
    }

    /**
     * Timeouts with a drain delay and the other defaults.
     *
     * @param connect upstream TCP connect
     * @param response from the request fully sent upstream to the response head
     * @param idle idle connections and stalled transfers
     * @param requestHeader the client must send the whole request head within this
     * @param drain how long a graceful shutdown waits for in-flight exchanges
     * @param drainDelay how long a graceful shutdown keeps serving before it stops accepting
     */
    public TimeoutsConfig(Duration connect, Duration response, Duration idle, Duration requestHeader,
                          Duration drain, Duration drainDelay) {
        this(connect, response, idle, requestHeader, drain, DEFAULT_TLS_HANDSHAKE, DEFAULT_TUNNEL_IDLE, drainDelay);
    }

    /**
     * @param value the TLS handshake deadline
     * @return these timeouts with it
     */
    public TimeoutsConfig withTlsHandshake(Duration value) {
        return new TimeoutsConfig(connect, response, idle, requestHeader, drain, value, tunnelIdle, drainDelay);
    }

    /**
     * @param value the idle time of an upgraded connection
     * @return these timeouts with it
     */
    public TimeoutsConfig withTunnelIdle(Duration value) {
        return new TimeoutsConfig(connect, response, idle, requestHeader, drain, tlsHandshake, value, drainDelay);
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /**
     * Builds {@link TimeoutsConfig}; each method sets the {@code timeouts} key of its name, the others keep their
     * defaults. {@link #build()} validates as the record does. Not thread-safe.
     */
    public static final class Builder {
        private Duration connect;
        private Duration response;
        private Duration idle;
        private Duration requestHeader;
        private Duration drain;
        private Duration tlsHandshake;
        private Duration tunnelIdle;
        private Duration drainDelay;

        Builder(TimeoutsConfig from) {
            connect = from.connect;
            response = from.response;
            idle = from.idle;
            requestHeader = from.requestHeader;
            drain = from.drain;
            tlsHandshake = from.tlsHandshake;
            tunnelIdle = from.tunnelIdle;
            drainDelay = from.drainDelay;
        }

        /**
         * @param value {@code connect}: upstream TCP connect, positive
         * @return this
         */
        public Builder connect(Duration value) {
            connect = value;
            return this;
        }

        /**
         * @param value {@code response}: from the request fully sent upstream to the response head, positive
         * @return this
         */
        public Builder response(Duration value) {
            response = value;
            return this;
        }

        /**
         * @param value {@code idle}: idle connections and stalled transfers, positive
         * @return this
         */
        public Builder idle(Duration value) {
            idle = value;
            return this;
        }

        /**
         * @param value {@code request_header}: the client must send the whole request head within this, positive
         * @return this
         */
        public Builder requestHeader(Duration value) {
            requestHeader = value;
            return this;
        }

        /**
         * @param value {@code drain}: how long a graceful shutdown waits for in-flight exchanges, positive
         * @return this
         */
        public Builder drain(Duration value) {
            drain = value;
            return this;
        }

        /**
         * @param value {@code tls_handshake}: a client on a TLS listener must finish its handshake within this,
         *     positive
         * @return this
         */
        public Builder tlsHandshake(Duration value) {
            tlsHandshake = value;
            return this;
        }

        /**
         * @param value {@code tunnel_idle}: an upgraded connection idle this long is closed, positive
         * @return this
         */
        public Builder tunnelIdle(Duration value) {
            tunnelIdle = value;
            return this;
        }

        /**
         * @param value {@code drain_delay}: how long a graceful shutdown keeps serving before it stops accepting;
         *     zero for none
         * @return this
         */
        public Builder drainDelay(Duration value) {
            drainDelay = value;
            return this;
        }

        /**
         * @return the timeouts
         * @throws IllegalArgumentException if a value is missing or out of range
         */
        public TimeoutsConfig build() {
            return new TimeoutsConfig(connect, response, idle, requestHeader, drain, tlsHandshake, tunnelIdle,
                    drainDelay);
        }
    }
}
