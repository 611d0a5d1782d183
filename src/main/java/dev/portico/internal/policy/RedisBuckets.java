package dev.portico.internal.policy;

import dev.portico.config.RateLimitPolicyConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The buckets of a {@code store: redis} policy: one {@link RedisScript#TOKEN_BUCKET} call per decision, under the key
 * {@code portico:rl:NAME:RATE:BURST:KEY} (instances that share a policy name and its numbers share its buckets).
 * With {@code lease: N} a call asks for N tokens; what it gets beyond the one the request needs is kept in a local
 * {@link BoundedTable} and spent without Redis until it runs out; when Redis had fewer than N, the instance refuses
 * the key locally until N are due again. So Redis sees about one call per N admitted requests of a key (and none
 * for the requests refused meanwhile), at the price of an instance holding at most N - 1 tokens others cannot have
 * and of admitting in steps of N rather than one by one.
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
        return leases == null ? null : leases.with(key, System.nanoTime(), RedisBuckets::spend);
    }

    private static Verdict spend(Lease l, long now) {
        if (l.tokens > 0) {
            l.tokens--;
            return new Verdict(true, l.remaining + l.tokens, 0, l.fullMillis);
        }
        if (l.refusing) {
            long wait = l.refusedUntil - now;
            if (wait > 0) {
                return new Verdict(false, 0, TimeUnit.NANOSECONDS.toMillis(wait) + 1, l.fullMillis);
            }
            l.refusing = false;
        }
        return null;
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
        if (leases != null && (granted > 1 || wait > 0)) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
            leases.with(key, granted - 1, (l, extra) -> {
                l.tokens += Math.max(0, extra);
                l.remaining = remaining;
                l.fullMillis = full;
                l.refusedUntil = until;
                l.refusing = wait > 0;
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
        /** Whether Redis will not have a lease's worth of tokens before {@link #refusedUntil} (nanoTime). */
        boolean refusing;
        long refusedUntil;
    }
}
