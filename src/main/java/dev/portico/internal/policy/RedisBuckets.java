package dev.portico.internal.policy;

import dev.portico.config.RateLimitPolicyConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The buckets of a {@code store: redis} policy: one {@link RedisScript#TOKEN_BUCKET} call per decision, under the key
 * {@code portico:rl:NAME:RATE:BURST:KEY} (instances that share a policy name and its numbers share its buckets).
 * With {@code lease: N} a call asks for N tokens; what it gets beyond the one the request needs is kept in a local
 * {@link BoundedTable} and spent without Redis until it runs out, so Redis sees about one call per N requests of a
 * key, and an instance can hold at most N - 1 tokens others cannot have.
 */
final class RedisBuckets {
    private final RedisLink link;
    private final String prefix;
    private final String[] one;
    private final String[] leased;
    /** Tokens leased from Redis, by key; null without {@code lease}. */
    private final BoundedTable<Lease> leases;
    private final long timeoutNanos;

    RedisBuckets(RateLimitPolicyConfig c, RedisLink link) {
        this.link = link;
        this.prefix = "portico:rl:" + c.name() + ":" + c.rateText() + ":" + c.burst() + ":";
        String rate = Long.toString(c.rate());
        String per = Long.toString(TimeUnit.NANOSECONDS.toMicros(c.per().toNanos()));
        String burst = Long.toString(c.burst());
        this.one = new String[] {rate, per, burst, "1"};
        this.leased = c.lease() > 1 ? new String[] {rate, per, burst, Long.toString(c.lease())} : null;
        this.leases = leased == null ? null : new BoundedTable<>(LocalBuckets.MAX_KEYS, k -> new Lease());
        this.timeoutNanos = link.config().timeout().toNanos();
    }

    /** @return a verdict from tokens leased earlier, or null when there are none for {@code key}: {@link #ask} */
    Verdict fromLease(String key) {
        return leases == null ? null : leases.with(key, 0, RedisBuckets::spend);
    }

    private static Verdict spend(Lease l, long unused) {
        if (l.tokens == 0) {
            return null;
        }
        l.tokens--;
        return new Verdict(true, l.remaining + l.tokens, 0, l.fullMillis);
    }

    /**
     * Asks Redis. Completes (on a Lettuce thread or the JDK's timer thread) with the verdict, or with a failure when
     * Redis is not connected, answers an error, or is slower than {@code redis.timeout}.
     */
    CompletableFuture<Verdict> ask(String key) {
        return link.eval(RedisScript.TOKEN_BUCKET, prefix + key, leased == null ? one : leased)
                .thenApply(reply -> verdict(key, reply))
                .orTimeout(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private Verdict verdict(String key, List<Object> reply) {
        long granted = (Long) reply.get(0);
        long remaining = (Long) reply.get(1);
        long wait = (Long) reply.get(2);
        long full = (Long) reply.get(3);
        if (granted > 1 && leases != null) {
            leases.with(key, granted - 1, (l, extra) -> {
                l.tokens += extra;
                l.remaining = remaining;
                l.fullMillis = full;
                return null;
            });
        }
        return new Verdict(granted > 0, remaining + (granted > 1 ? granted - 1 : 0), wait, full);
    }

    /** Tokens of one key taken from Redis and not spent yet; touched under its stripe's lock. */
    private static final class Lease {
        long tokens;
        long remaining;
        long fullMillis;
    }
}
