package dev.portico.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * When a failed try is sent again, to another endpoint if there is one.
 *
 * @param attempts extra tries after the first, 0 to 10
 * @param retryOn the conditions: {@code connect_failure}, {@code reset}, {@code timeout}, 5xx status codes, and
 *     for gRPC {@code grpc_unavailable} and {@code grpc_resource_exhausted} (a trailers-only response whose
 *     {@code grpc-status} is 14 or 8, retried like a 5xx)
 * @param idempotentOnly whether a request that is not idempotent (POST, PATCH) is retried only when nothing of it
 *     was sent (a connect failure)
 * @param budgetPercent retries in flight never exceed this share of the requests in flight to the upstream (at least
 *     {@value #MIN_RETRIES_IN_FLIGHT} retries are always allowed)
 * @param perTryTimeout how long one try waits for the response head; {@code null} for {@code timeouts.response}
 * @param backoff the base delay before a retry: exponential, jittered
 * @param buffer the largest request body kept to be replayed on a retry; a longer body that was sent is never
 *     replayed
 */
public record RetryConfig(int attempts, List<String> retryOn, boolean idempotentOnly, int budgetPercent,
                          Duration perTryTimeout, Duration backoff, long buffer) {
    /** Retries always allowed in flight, whatever the budget. */
    public static final int MIN_RETRIES_IN_FLIGHT = 3;
    /** The defaults. */
    public static final RetryConfig DEFAULTS = new RetryConfig(1, List.of("connect_failure", "reset"), true, 20, null,
            Duration.ofMillis(25), 64 * 1024);

    /** Validates and normalizes every field. */
    public RetryConfig {
        ConfigValues.inRange(attempts, 0, 10, "attempts");
        Objects.requireNonNull(retryOn, "retry_on");
        List<String> normal = new ArrayList<>();
        for (String s : retryOn) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (!t.equals("connect_failure") && !t.equals("reset") && !t.equals("timeout") && statusOf(t) < 0
                    && grpcStatusOf(t) < 0) {
                throw new IllegalArgumentException("retry_on has \"" + s + "\": expected connect_failure, reset, "
                        + "timeout, grpc_unavailable, grpc_resource_exhausted or a 5xx status code");
            }
            normal.add(t);
        }
        retryOn = List.copyOf(normal);
        ConfigValues.inRange(budgetPercent, 0, 100, "budget_percent");
        if (perTryTimeout != null) {
            ConfigValues.positive(perTryTimeout, "per_try_timeout");
        }
        Objects.requireNonNull(backoff, "backoff");
        if (backoff.isNegative()) {
            throw new IllegalArgumentException("backoff must not be negative");
        }
        ConfigValues.inRange(buffer, 0, 64L * 1024 * 1024, "buffer");
    }

    private static int statusOf(String token) {
        if (token.length() == 3 && token.charAt(0) == '5' && Character.isDigit(token.charAt(1))
                && Character.isDigit(token.charAt(2))) {
            return Integer.parseInt(token);
        }
        return -1;
    }

    private static int grpcStatusOf(String token) {
        return switch (token) {
            case "grpc_unavailable" -> 14;
            case "grpc_resource_exhausted" -> 8;
            default -> -1;
        };
    }

    /**
     * @param grpcStatus the {@code grpc-status} of a trailers-only response
     * @return whether {@code retry_on} retries it ({@code grpc_unavailable}: 14, {@code grpc_resource_exhausted}: 8)
     */
    public boolean retriesGrpcStatus(int grpcStatus) {
        for (String t : retryOn) {
            if (grpcStatusOf(t) == grpcStatus) {
                return true;
            }
        }
        return false;
    }

    /** @return whether a failed connect is retried */
    public boolean onConnectFailure() {
        return retryOn.contains("connect_failure");
    }

    /** @return whether a reset before any response byte is retried */
    public boolean onReset() {
        return retryOn.contains("reset");
    }

    /** @return whether a per-try timeout is retried */
    public boolean onTimeout() {
        return retryOn.contains("timeout");
    }

    /** @return the 5xx statuses that are retried, as a set of codes */
    public BitSet statuses() {
        BitSet set = new BitSet(600);
        for (String t : retryOn) {
            int s = statusOf(t);
            if (s > 0) {
                set.set(s);
            }
        }
        return set;
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /** Builds {@link RetryConfig}; each method sets the {@code retry} key of its name. Not thread-safe. */
    public static final class Builder {
        private int attempts;
        private List<String> retryOn;
        private boolean idempotentOnly;
        private int budgetPercent;
        private Duration perTryTimeout;
        private Duration backoff;
        private long buffer;

        Builder(RetryConfig from) {
            attempts = from.attempts;
            retryOn = from.retryOn;
            idempotentOnly = from.idempotentOnly;
            budgetPercent = from.budgetPercent;
            perTryTimeout = from.perTryTimeout;
            backoff = from.backoff;
            buffer = from.buffer;
        }

        /**
         * @param count {@code attempts}: extra tries after the first, 0 to 10
         * @return this
         */
        public Builder attempts(int count) {
            attempts = count;
            return this;
        }

        /**
         * @param conditions {@code retry_on}: {@code connect_failure}, {@code reset}, {@code timeout}, 5xx codes,
         *     {@code grpc_unavailable}, {@code grpc_resource_exhausted}
         * @return this
         */
        public Builder retryOn(String... conditions) {
            retryOn = List.of(conditions);
            return this;
        }

        /**
         * @param value {@code idempotent_only}: whether a non-idempotent request is retried only when nothing of
         *     it was sent
         * @return this
         */
        public Builder idempotentOnly(boolean value) {
            idempotentOnly = value;
            return this;
        }

        /**
         * @param percent {@code budget_percent}: retries in flight as a share of requests in flight, 0 to 100
         * @return this
         */
        public Builder budgetPercent(int percent) {
            budgetPercent = percent;
            return this;
        }

        /**
         * @param value {@code per_try_timeout}: how long one try waits for the response head; {@code null} for
         *     {@code timeouts.response}
         * @return this
         */
        public Builder perTryTimeout(Duration value) {
            perTryTimeout = value;
            return this;
        }

        /**
         * @param value {@code backoff}: the base delay before a retry
         * @return this
         */
        public Builder backoff(Duration value) {
            backoff = value;
            return this;
        }

        /**
         * @param bytes {@code buffer}: the largest request body kept to be replayed, up to 64 MiB
         * @return this
         */
        public Builder buffer(long bytes) {
            buffer = bytes;
            return this;
        }

        /**
         * @return the retry settings
         * @throws IllegalArgumentException if a value is not valid
         */
        public RetryConfig build() {
            return new RetryConfig(attempts, retryOn, idempotentOnly, budgetPercent, perTryTimeout, backoff, buffer);
        }
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof RetryConfig other && attempts == other.attempts && Objects.equals(retryOn, other.retryOn)
                && idempotentOnly == other.idempotentOnly && budgetPercent == other.budgetPercent
                && Objects.equals(perTryTimeout, other.perTryTimeout) && Objects.equals(backoff, other.backoff)
                && buffer == other.buffer;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(attempts, retryOn, idempotentOnly, budgetPercent, perTryTimeout, backoff, buffer);
    }
}
