package dev.portico.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The active health check of an upstream: {@code GET path} to every endpoint each {@code interval}, or with
 * {@code grpc: true} a call of the gRPC health protocol ({@code grpc.health.v1.Health/Check}) over HTTP/2 (h2c on
 * {@code http://} servers), which passes when the answer says SERVING.
 *
 * @param path the request target, starting with {@code /}
 * @param interval time between two checks of one endpoint
 * @param timeout how long one check may take, connect included
 * @param healthyThreshold consecutive passes that bring an unhealthy endpoint back
 * @param unhealthyThreshold consecutive failures that take a healthy endpoint out
 * @param expectMin the lowest status that passes
 * @param expectMax the highest status that passes
 * @param grpc {@code grpc}: check with the gRPC health protocol instead of {@code GET path}
 * @param service {@code service}: the service name the gRPC check asks about ({@code ""}: the server as a whole)
 */
public record HealthCheckConfig(String path, Duration interval, Duration timeout, int healthyThreshold,
                                int unhealthyThreshold, int expectMin, int expectMax, boolean grpc,
                                String service) {
    /** Default {@code interval}. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    /** Default {@code timeout}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

    /** Validates every field. */
    public HealthCheckConfig {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IllegalArgumentException("path must start with / and have no spaces or control characters: \""
                    + path + "\"");
        }
        ConfigValues.positive(interval, "interval");
        ConfigValues.positive(timeout, "timeout");
        ConfigValues.inRange(healthyThreshold, 1, 100, "healthy_threshold");
        ConfigValues.inRange(unhealthyThreshold, 1, 100, "unhealthy_threshold");
        ConfigValues.inRange(expectMin, 100, 599, "expect_status");
        ConfigValues.inRange(expectMax, expectMin, 599, "expect_status");
        Objects.requireNonNull(service, "service");
        if (!grpc && !service.isEmpty()) {
            throw new IllegalArgumentException("service is for grpc: true checks only");
        }
    }

    /**
     * An HTTP check ({@code GET path}).
     *
     * @param path the request target
     * @param interval time between two checks
     * @param timeout how long one check may take
     * @param healthyThreshold passes that bring an endpoint back
     * @param unhealthyThreshold failures that take it out
     * @param expectMin the lowest status that passes
     * @param expectMax the highest status that passes
     */
    public HealthCheckConfig(String path, Duration interval, Duration timeout, int healthyThreshold,
                             int unhealthyThreshold, int expectMin, int expectMax) {
        this(path, interval, timeout, healthyThreshold, unhealthyThreshold, expectMin, expectMax, false, "");
    }

    /**
     * @param service the service the check asks about, {@code ""} for the server as a whole
     * @return a builder for a gRPC health check ({@code grpc: true}), with the defaults
     */
    public static Builder grpc(String service) {
        Builder b = new Builder("/");
        b.grpc = true;
        b.service = Objects.requireNonNull(service, "service");
        return b;
    }

    /**
     * @param path {@code path}: the request target, starting with {@code /}
     * @return a builder with the defaults: every 5s, 1s timeout, 2 passes, 3 failures, statuses 200-399
     */
    public static Builder builder(String path) {
        return new Builder(path);
    }

    /** Builds {@link HealthCheckConfig}; each method sets the {@code health_check} key of its name. Not thread-safe. */
    public static final class Builder {
        private final String path;
        private Duration interval = DEFAULT_INTERVAL;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int healthyThreshold = 2;
        private int unhealthyThreshold = 3;
        private int expectMin = 200;
        private int expectMax = 399;
        private boolean grpc;
        private String service = "";

        private Builder(String path) {
            this.path = path;
        }

        /**
         * @param value {@code interval}: time between two checks of one endpoint
         * @return this
         */
        public Builder interval(Duration value) {
            interval = value;
            return this;
        }

        /**
         * @param value {@code timeout}: how long one check may take, connect included
         * @return this
         */
        public Builder timeout(Duration value) {
            timeout = value;
            return this;
        }

        /**
         * @param count {@code healthy_threshold}: consecutive passes that bring an endpoint back, 1 to 100
         * @return this
         */
        public Builder healthyThreshold(int count) {
            healthyThreshold = count;
            return this;
        }

        /**
         * @param count {@code unhealthy_threshold}: consecutive failures that take an endpoint out, 1 to 100
         * @return this
         */
        public Builder unhealthyThreshold(int count) {
            unhealthyThreshold = count;
            return this;
        }

        /**
         * @param status {@code expect_status}: the one status that passes
         * @return this
         */
        public Builder expectStatus(int status) {
            return expectStatus(status, status);
        }

        /**
         * @param min {@code expect_status}: the lowest status that passes
         * @param max the highest
         * @return this
         */
        public Builder expectStatus(int min, int max) {
            expectMin = min;
            expectMax = max;
            return this;
        }

        /**
         * @return the health check
         * @throws IllegalArgumentException if a value is not valid
         */
        public HealthCheckConfig build() {
            return new HealthCheckConfig(path, interval, timeout, healthyThreshold, unhealthyThreshold, expectMin,
                    expectMax, grpc, service);
        }
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof HealthCheckConfig other && Objects.equals(path, other.path)
                && Objects.equals(interval, other.interval) && Objects.equals(timeout, other.timeout)
                && healthyThreshold == other.healthyThreshold && unhealthyThreshold == other.unhealthyThreshold
                && expectMin == other.expectMin && expectMax == other.expectMax && grpc == other.grpc
                && Objects.equals(service, other.service);
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(path, interval, timeout, healthyThreshold, unhealthyThreshold, expectMin, expectMax,
                grpc, service);
    }
}
