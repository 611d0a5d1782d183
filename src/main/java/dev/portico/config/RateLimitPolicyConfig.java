package dev.portico.config;

import dev.portico.policy.Headers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The {@code rate_limit} policy: a token bucket per key. A request that finds its bucket empty is answered with 429
 * and {@code Retry-After} and never reaches the backend; a request without the key (no such header, no such claim)
 * is counted under one shared {@code missing} key.
 *
 * @param name the policy's name in {@code RateLimit-Policy} and in Redis keys: its {@code policies:} name, or
 *     {@code default} for a policy written inline on a route
 * @param key the key's parts, joined: {@code client_ip}, {@code header:NAME}, {@code route}, {@code jwt_claim:NAME}
 * @param rate tokens added per {@code per}
 * @param per the rate's period: one second, minute or hour
 * @param burst the bucket's size
 * @param store where buckets live
 * @param onStoreFailure what a request gets while the store cannot be reached in time
 * @param headers which rate-limit fields responses carry
 * @param lease with {@code store: redis}, how many tokens an instance takes from Redis at a time to spend locally;
 *     0 for one Redis call per request
 */
public record RateLimitPolicyConfig(String name, List<String> key, long rate, Duration per, long burst, Store store,
                                    OnStoreFailure onStoreFailure, HeaderStyle headers, long lease)
        implements PolicyConfig {
    /** The name of a policy written inline on a route. */
    public static final String DEFAULT_NAME = "default";

    /** Where the buckets live. */
    public enum Store {
        /** In this process, in a table of bounded size. */
        LOCAL,
        /** In the Redis of the {@code redis:} section, shared by every instance using it. */
        REDIS
    }

    /** What happens to a request while the store is down or slower than its timeout. */
    public enum OnStoreFailure {
        /** Let it through (counted as an error). */
        ALLOW,
        /** Answer 503. */
        DENY
    }

    /** The rate-limit fields on responses. */
    public enum HeaderStyle {
        /** {@code RateLimit-Policy} and {@code RateLimit}, structured fields (draft-ietf-httpapi-ratelimit-headers). */
        IETF,
        /** {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset} (seconds until the bucket is full). */
        LEGACY,
        /** None. */
        NONE
    }

    /** Validates the key parts, the rate and the lease. */
    public RateLimitPolicyConfig {
        Objects.requireNonNull(name, "name");
        key = List.copyOf(key);
        Objects.requireNonNull(per, "per");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(onStoreFailure, "onStoreFailure");
        Objects.requireNonNull(headers, "headers");
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("name may have letters, digits, '_', '.' and '-' only: \"" + name + "\"");
        }
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key must name at least one part");
        }
        for (String k : key) {
            try {
                checkKey(k);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("key " + e.getMessage());
            }
        }
        if (rate < 1) {
            throw new IllegalArgumentException("rate must be at least 1 per period, got " + rate);
        }
        if (!per.equals(Duration.ofSeconds(1)) && !per.equals(Duration.ofMinutes(1))
                && !per.equals(Duration.ofHours(1))) {
            throw new IllegalArgumentException("rate must be per second, minute or hour");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1, got " + burst);
        }
        if (lease < 0) {
            throw new IllegalArgumentException("lease must not be negative, got " + lease);
        }
        if (lease > 0 && store != Store.REDIS) {
            throw new IllegalArgumentException("lease is for store: redis only");
        }
        if (lease > burst) {
            throw new IllegalArgumentException("lease must not exceed burst (" + burst + "), got " + lease);
        }
    }

    /** @throws IllegalArgumentException if {@code k} is not a key part */
    static String checkKey(String k) {
        if (k.equals("client_ip") || k.equals("route")) {
            return k;
        }
        int colon = k.indexOf(':');
        String kind = colon < 0 ? k : k.substring(0, colon);
        String arg = colon < 0 ? "" : k.substring(colon + 1);
        if (kind.equals("header") && Headers.isFieldName(arg)) {
            return k;
        }
        if (kind.equals("jwt_claim") && !arg.isEmpty()) {
            return k;
        }
        throw new IllegalArgumentException("expected client_ip, header:NAME, route or jwt_claim:NAME, got \""
                + k + "\"");
    }

    /**
     * @param rate e.g. {@code 100/s}, {@code 20/m}, {@code 1000/h}
     * @return a builder for a policy named {@value #DEFAULT_NAME}, keyed by client IP, with a local store, burst
     *     equal to the rate, failures allowed and IETF fields
     */
    public static Builder builder(String rate) {
        return new Builder(rate);
    }

    /** @return the rate as written, e.g. {@code 100/s} */
    public String rateText() {
        return rate + "/" + (per.toHours() == 1 ? "h" : per.toMinutes() == 1 ? "m" : "s");
    }

    @Override
    public String type() {
        return "rate_limit";
    }

    /**
     * @param text {@code N/s}, {@code N/m} or {@code N/h}
     * @return the count and period
     */
    static Object[] parseRate(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*(\\d{1,12})\\s*/\\s*([smh])\\s*")
                .matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("expected N/s, N/m or N/h, got \"" + text + "\"");
        }
        Duration per = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(1);
            case "m" -> Duration.ofMinutes(1);
            default -> Duration.ofHours(1);
        };
        return new Object[] {Long.parseLong(m.group(1)), per};
    }

    /** Builds a {@link RateLimitPolicyConfig}. Not thread-safe. */
    public static final class Builder {
        private String name = DEFAULT_NAME;
        private final List<String> key = new ArrayList<>();
        private final long rate;
        private final Duration per;
        private Long burst;
        private Store store = Store.LOCAL;
        private OnStoreFailure onStoreFailure = OnStoreFailure.ALLOW;
        private HeaderStyle headers = HeaderStyle.IETF;
        private long lease;

        private Builder(String rateText) {
            Object[] r = parseRate(Objects.requireNonNull(rateText, "rate"));
            this.rate = (Long) r[0];
            this.per = (Duration) r[1];
        }

        /**
         * @param value the name in {@code RateLimit-Policy} and Redis keys
         * @return this
         */
        public Builder name(String value) {
            this.name = Objects.requireNonNull(value, "name");
            return this;
        }

        /**
         * @param parts the key's parts ({@code client_ip} when none are given)
         * @return this
         */
        public Builder key(String... parts) {
            key.addAll(List.of(parts));
            return this;
        }

        /**
         * @param value the bucket size (default: the rate's count)
         * @return this
         */
        public Builder burst(long value) {
            this.burst = value;
            return this;
        }

        /**
         * @param value where buckets live
         * @return this
         */
        public Builder store(Store value) {
            this.store = Objects.requireNonNull(value, "store");
            return this;
        }

        /**
         * @param value what happens while the store fails
         * @return this
         */
        public Builder onStoreFailure(OnStoreFailure value) {
            this.onStoreFailure = Objects.requireNonNull(value, "onStoreFailure");
            return this;
        }

        /**
         * @param value the response fields
         * @return this
         */
        public Builder headers(HeaderStyle value) {
            this.headers = Objects.requireNonNull(value, "headers");
            return this;
        }

        /**
         * @param value tokens taken from Redis at a time (0: none held locally)
         * @return this
         */
        public Builder lease(long value) {
            this.lease = value;
            return this;
        }

        /** @return the policy's settings */
        public RateLimitPolicyConfig build() {
            return new RateLimitPolicyConfig(name, key.isEmpty() ? List.of("client_ip") : key, rate, per,
                    burst == null ? rate : burst, store, onStoreFailure, headers, lease);
        }
    }
}
