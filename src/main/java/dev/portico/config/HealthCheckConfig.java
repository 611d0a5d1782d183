package dev.portico.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The active health check of an upstream: {@code GET path} to every endpoint each {@code interval}.
 *
 * @param path the request target, starting with {@code /}
 * @param interval time between two checks of one endpoint
 * @param timeout how long one check may take, connect included
 * @param healthyThreshold consecutive passes that bring an unhealthy endpoint back
 * @param unhealthyThreshold consecutive failures that take a healthy endpoint out
 * @param expectMin the lowest status that passes
 * @param expectMax the highest status that passes
 */
public record HealthCheckConfig(String path, Duration interval, Duration timeout, int healthyThreshold,
                                int unhealthyThreshold, int expectMin, int expectMax) {
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
    }
}
