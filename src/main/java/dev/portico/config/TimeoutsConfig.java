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
}
