package dev.portico.config;

import java.time.Duration;
import java.util.Objects;

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

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /** Builds {@link PassiveConfig}; each method sets the {@code passive} key of its name. Not thread-safe. */
    public static final class Builder {
        private int consecutiveFailures;
        private Duration ejectFor;
        private int maxEjectedPercent;
        private boolean on5xx;

        Builder(PassiveConfig from) {
            consecutiveFailures = from.consecutiveFailures;
            ejectFor = from.ejectFor;
            maxEjectedPercent = from.maxEjectedPercent;
            on5xx = from.on5xx;
        }

        /**
         * @param count {@code consecutive_failures}: failures in a row that eject an endpoint, 0 for off
         * @return this
         */
        public Builder consecutiveFailures(int count) {
            consecutiveFailures = count;
            return this;
        }

        /**
         * @param value {@code eject_for}: how long the first ejection lasts
         * @return this
         */
        public Builder ejectFor(Duration value) {
            ejectFor = value;
            return this;
        }

        /**
         * @param percent {@code max_ejected_percent}: the largest share of endpoints ejected at once
         * @return this
         */
        public Builder maxEjectedPercent(int percent) {
            maxEjectedPercent = percent;
            return this;
        }

        /**
         * @param value {@code on_5xx}: whether a 5xx response counts as a failure
         * @return this
         */
        public Builder on5xx(boolean value) {
            on5xx = value;
            return this;
        }

        /**
         * @return the passive settings
         * @throws IllegalArgumentException if a value is out of range
         */
        public PassiveConfig build() {
            return new PassiveConfig(consecutiveFailures, ejectFor, maxEjectedPercent, on5xx);
        }
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof PassiveConfig other && consecutiveFailures == other.consecutiveFailures
                && Objects.equals(ejectFor, other.ejectFor) && maxEjectedPercent == other.maxEjectedPercent
                && on5xx == other.on5xx;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(consecutiveFailures, ejectFor, maxEjectedPercent, on5xx);
    }
}
