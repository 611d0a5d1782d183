package dev.portico.config;

import java.time.Duration;

/**
 * Outlier ejection from live traffic.
 *
 * @param consecutiveFailures failures in a row (connect errors, resets, timeouts, and 5xx if {@code on5xx}) that
 *     eject an endpoint; 0 turns passive ejection off
 * @param ejectFor how long the first ejection lasts; each further one in a row doubles it, up to ten times this
 * @param maxEjectedPercent the largest share of an upstream's endpoints ejected at once (one is always allowed)
 * @param on5xx whether a 5xx response counts as a failure
 */
public record PassiveConfig(int consecutiveFailures, Duration ejectFor, int maxEjectedPercent, boolean on5xx) {
    /** The defaults: 5 failures, 30 s, 50%, 5xx not counted. */
    public static final PassiveConfig DEFAULTS = new PassiveConfig(5, Duration.ofSeconds(30), 50, false);

    /** Validates every field. */
    public PassiveConfig {
        ConfigValues.inRange(consecutiveFailures, 0, 1000, "consecutive_failures");
        ConfigValues.positive(ejectFor, "eject_for");
        ConfigValues.inRange(maxEjectedPercent, 0, 100, "max_ejected_percent");
    }

    /** @return the ejection time after {@code times} ejections in a row (1 for the first), capped at ten times */
    public Duration ejectionTime(int times) {
        int doublings = Math.min(Math.max(times, 1) - 1, 10);
        Duration d = ejectFor.multipliedBy(1L << doublings);
        Duration cap = ejectFor.multipliedBy(10);
        return d.compareTo(cap) > 0 ? cap : d;
    }
}
