package dev.portico.internal.policy;

import dev.portico.config.RateLimitPolicyConfig;

/**
 * The token buckets of a {@code store: local} policy, in a {@link BoundedTable}: at most {@link #MAX_KEYS} keys per
 * policy (about 150 bytes each, so some 15 MB at worst), the least recently used evicted first. An evicted key
 * starts again with a full bucket, which for a key idle longer than a refill time is what it had anyway.
 */
final class LocalBuckets {
    /** The most keys one policy's table holds. */
    static final int MAX_KEYS = 100_000;

    private final BoundedTable<Bucket> table;
    private final double tokensPerNano;
    private final long burst;

    LocalBuckets(RateLimitPolicyConfig config, int maxKeys) {
        this.tokensPerNano = (double) config.rate() / config.per().toNanos();
        this.burst = config.burst();
        this.table = new BoundedTable<>(maxKeys, k -> new Bucket(burst, Long.MIN_VALUE));
    }

    /** @return the decision for one request of {@code key} at {@code nowNanos} ({@link System#nanoTime()}) */
    Verdict take(String key, long nowNanos) {
        return table.with(key, nowNanos, this::take);
    }

    private Verdict take(Bucket b, long now) {
        if (b.stamp == Long.MIN_VALUE) {
            b.stamp = now; // a new key: a full bucket as of now
        } else if (now > b.stamp) {
            b.tokens = Math.min(burst, b.tokens + (now - b.stamp) * tokensPerNano);
            b.stamp = now;
        }
        boolean allowed = b.tokens >= 1;
        if (allowed) {
            b.tokens -= 1;
        }
        long wait = allowed ? 0 : millis((1 - b.tokens) / tokensPerNano);
        return new Verdict(allowed, (long) b.tokens, wait, millis((burst - b.tokens) / tokensPerNano));
    }

    private static long millis(double nanos) {
        return (long) Math.ceil(nanos / 1_000_000);
    }

    /** @return the keys held now */
    int size() {
        return table.size();
    }

    /** One key's bucket; touched only under its stripe's lock. */
    private static final class Bucket {
        double tokens;
        long stamp;

        Bucket(double tokens, long stamp) {
            this.tokens = tokens;
            this.stamp = stamp;
        }
    }
}
