package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.RateLimitPolicyConfig;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The local token buckets: their arithmetic, and the bound on their table under a flood of keys. */
class LocalBucketsTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aBucketRefillsAtTheRateUpToTheBurst() {
        LocalBuckets b = new LocalBuckets(RateLimitPolicyConfig.builder("10/s").burst(2).build(), 1024);
        long t = 1_000 * SECOND;

        assertThat(b.take("k", t).allowed()).isTrue();
        assertThat(b.take("k", t).allowed()).isTrue();
        Verdict refused = b.take("k", t);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterMillis()).isEqualTo(100);
        assertThat(refused.retryAfterSeconds()).isEqualTo(1);
        assertThat(b.take("k", t + SECOND / 10).allowed()).isTrue();
        // A long pause fills the bucket to its burst, no further.
        assertThat(b.take("k", t + 60 * SECOND).remaining()).isEqualTo(1);
    }

    @Test
    @Timeout(120)
    void aMillionDistinctKeysNeverHoldMoreThanTheBound() {
        LocalBuckets b = new LocalBuckets(RateLimitPolicyConfig.builder("100/s").build(), LocalBuckets.MAX_KEYS);
        Runtime rt = Runtime.getRuntime();
        long t = System.nanoTime();
        for (int i = 0; i < 200_000; i++) {
            b.take("10." + i, t); // fill to the bound first, so the heap is measured with the table full
        }
        long filled = usedHeap(rt);
        int most = 0;
        for (int i = 0; i < 1_000_000; i++) {
            assertThat(b.take("flood-" + i, t).allowed()).isTrue(); // every new key starts with a full bucket
            if ((i & 0xffff) == 0) {
                most = Math.max(most, b.size());
            }
        }
        long after = usedHeap(rt);

        assertThat(Math.max(most, b.size())).isLessThanOrEqualTo(LocalBuckets.MAX_KEYS);
        assertThat(b.size()).isEqualTo(LocalBuckets.MAX_KEYS);
        // A million more keys must not grow the heap beyond noise: the table stays at its bound.
        assertThat(after - filled).isLessThan(16L << 20);
        System.out.printf("local table: %d keys held after 1,200,000 distinct keys; heap with full table %d MiB, "
                + "after the flood %d MiB%n", b.size(), filled >> 20, after >> 20);
    }

    @Test
    void theLeastRecentlyUsedKeyIsTheOneEvicted() {
        LocalBuckets b = new LocalBuckets(RateLimitPolicyConfig.builder("1/h").build(), 16 * 4);
        long t = 1_000 * SECOND;
        for (int i = 0; i < 10_000; i++) {
            b.take("hot", t); // refused after the first, but kept recent
            b.take("cold-" + i, t);
        }

        assertThat(b.take("hot", t).allowed()).isFalse();
        assertThat(b.size()).isLessThanOrEqualTo(64);
    }

    private static long usedHeap(Runtime rt) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
