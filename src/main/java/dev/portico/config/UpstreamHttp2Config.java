package dev.portico.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How Portico multiplexes requests to an upstream spoken to over HTTP/2 ({@code protocol: h2c}, {@code h2}, or
 * {@code auto} when the backend chose h2): the {@code http2:} section of a named upstream.
 *
 * @param maxStreamsPerConnection the most streams one connection carries at once; the backend's
 *     {@code SETTINGS_MAX_CONCURRENT_STREAMS} lowers it
 * @param connectionsPerEndpoint connections per endpoint and event loop kept for streams; more are opened when
 *     their streams are all taken (bounded by {@code max_connections})
 * @param pingInterval a PING is sent on a connection that read nothing for this long; with no answer within
 *     {@code timeouts.connect} the connection is closed. {@link Duration#ZERO}: no pings
 */
public record UpstreamHttp2Config(int maxStreamsPerConnection, int connectionsPerEndpoint, Duration pingInterval) {
    /** Default {@code max_streams_per_connection}. */
    public static final int DEFAULT_MAX_STREAMS = 100;
    /** Default {@code connections_per_endpoint}. */
    public static final int DEFAULT_CONNECTIONS = 1;
    /** Default {@code ping_interval}. */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(30);
    /** Upper bound of {@code max_streams_per_connection}. */
    public static final int MAX_STREAMS = 10_000;
    /** Upper bound of {@code connections_per_endpoint}. */
    public static final int MAX_CONNECTIONS = 1_000;
    /** The defaults. */
    public static final UpstreamHttp2Config DEFAULTS = new UpstreamHttp2Config(DEFAULT_MAX_STREAMS,
            DEFAULT_CONNECTIONS, DEFAULT_PING_INTERVAL);

    /** Validates every field. */
    public UpstreamHttp2Config {
        ConfigValues.inRange(maxStreamsPerConnection, 1, MAX_STREAMS, "max_streams_per_connection");
        ConfigValues.inRange(connectionsPerEndpoint, 1, MAX_CONNECTIONS, "connections_per_endpoint");
        Objects.requireNonNull(pingInterval, "ping_interval");
        if (pingInterval.isNegative()) {
            throw new IllegalArgumentException("ping_interval must not be negative, got " + pingInterval.toMillis()
                    + "ms");
        }
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link UpstreamHttp2Config}; each method sets the {@code http2} key of its name. Not thread-safe. */
    public static final class Builder {
        private int maxStreamsPerConnection = DEFAULT_MAX_STREAMS;
        private int connectionsPerEndpoint = DEFAULT_CONNECTIONS;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;

        private Builder() {
        }

        /**
         * @param value {@code max_streams_per_connection}: 1 to {@value #MAX_STREAMS}
         * @return this
         */
        public Builder maxStreamsPerConnection(int value) {
            maxStreamsPerConnection = value;
            return this;
        }

        /**
         * @param value {@code connections_per_endpoint}: 1 to {@value #MAX_CONNECTIONS}
         * @return this
         */
        public Builder connectionsPerEndpoint(int value) {
            connectionsPerEndpoint = value;
            return this;
        }

        /**
         * @param value {@code ping_interval}: zero for no pings
         * @return this
         */
        public Builder pingInterval(Duration value) {
            pingInterval = value;
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if a value is out of range
         */
        public UpstreamHttp2Config build() {
            return new UpstreamHttp2Config(maxStreamsPerConnection, connectionsPerEndpoint, pingInterval);
        }
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamHttp2Config other && maxStreamsPerConnection == other.maxStreamsPerConnection
                && connectionsPerEndpoint == other.connectionsPerEndpoint
                && Objects.equals(pingInterval, other.pingInterval);
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(maxStreamsPerConnection, connectionsPerEndpoint, pingInterval);
    }
}
