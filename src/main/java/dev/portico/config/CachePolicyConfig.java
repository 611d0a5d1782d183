package dev.portico.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code cache} policy: an RFC 9111 shared cache in memory, driven by the backend's {@code Cache-Control},
 * {@code Expires}, validators and {@code Vary}. Build with {@link #builder()} or {@link #defaults()}.
 *
 * @param maxSize the store's bound in bytes, header fields and bodies counted; least recently used entries go first
 * @param maxObjectSize responses larger than this pass through uncached (known from {@code Content-Length}, or
 *     when a streamed body crosses it: the partial entry is dropped, the client still gets the whole response)
 * @param heuristic whether RFC 9111 section 4.2.2 heuristic freshness applies (10% of the {@code Last-Modified}
 *     age, at most one day) to responses without explicit freshness
 * @param coalesce whether concurrent misses for one key make one backend request, the others waiting for it
 * @param staleIfError extra grace, beyond a response's own {@code stale-if-error}, to serve a stale entry when the
 *     backend fails
 * @param statusHeader whether every response of the route carries {@code Cache-Status} (RFC 9211)
 */
public record CachePolicyConfig(long maxSize, long maxObjectSize, boolean heuristic, boolean coalesce,
                                Duration staleIfError, boolean statusHeader) implements PolicyConfig {
    /** Default {@code max_size}: 256 MiB. */
    public static final long DEFAULT_MAX_SIZE = 256L << 20;
    /** Default {@code max_object_size}: 8 MiB. */
    public static final long DEFAULT_MAX_OBJECT_SIZE = 8L << 20;

    /** Validates: sizes positive, an object no larger than the store, grace not negative. */
    public CachePolicyConfig {
        Objects.requireNonNull(staleIfError, "staleIfError");
        if (maxSize <= 0) {
            throw new IllegalArgumentException("max_size must be positive");
        }
        if (maxObjectSize <= 0) {
            throw new IllegalArgumentException("max_object_size must be positive");
        }
        if (maxObjectSize > maxSize) {
            throw new IllegalArgumentException("max_object_size must not exceed max_size (" + maxSize + " bytes)");
        }
        if (maxObjectSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("max_object_size must be below 2GiB");
        }
        if (staleIfError.isNegative()) {
            throw new IllegalArgumentException("stale_if_error must not be negative");
        }
    }

    /** @return the configuration with every default */
    public static CachePolicyConfig defaults() {
        return builder().build();
    }

    /** @return a builder holding the defaults */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String type() {
        return "cache";
    }

    /** Builds a {@link CachePolicyConfig}; each method is named after its YAML key. Not thread-safe. */
    public static final class Builder {
        private long maxSize = DEFAULT_MAX_SIZE;
        private long maxObjectSize = DEFAULT_MAX_OBJECT_SIZE;
        private boolean heuristic = true;
        private boolean coalesce = true;
        private Duration staleIfError = Duration.ZERO;
        private boolean statusHeader = true;

        private Builder() {
        }

        /**
         * @param bytes {@code max_size}
         * @return this
         */
        public Builder maxSize(long bytes) {
            this.maxSize = bytes;
            return this;
        }

        /**
         * @param bytes {@code max_object_size}
         * @return this
         */
        public Builder maxObjectSize(long bytes) {
            this.maxObjectSize = bytes;
            return this;
        }

        /**
         * @param value {@code heuristic}
         * @return this
         */
        public Builder heuristic(boolean value) {
            this.heuristic = value;
            return this;
        }

        /**
         * @param value {@code coalesce}
         * @return this
         */
        public Builder coalesce(boolean value) {
            this.coalesce = value;
            return this;
        }

        /**
         * @param value {@code stale_if_error}
         * @return this
         */
        public Builder staleIfError(Duration value) {
            this.staleIfError = Objects.requireNonNull(value, "staleIfError");
            return this;
        }

        /**
         * @param value {@code status_header}
         * @return this
         */
        public Builder statusHeader(boolean value) {
            this.statusHeader = value;
            return this;
        }

        /**
         * @return the configuration
         * @throws IllegalArgumentException if a value is out of range
         */
        public CachePolicyConfig build() {
            return new CachePolicyConfig(maxSize, maxObjectSize, heuristic, coalesce, staleIfError, statusHeader);
        }
    }
}
