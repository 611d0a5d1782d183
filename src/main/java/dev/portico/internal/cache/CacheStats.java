package dev.portico.internal.cache;

/**
 * A reading of a cache's counters and sizes.
 *
 * @param hits requests answered from the store
 * @param misses requests with nothing stored for them
 * @param staleServed stale entries served (allowed by the request, {@code stale-if-error} or
 *     {@code stale-while-revalidate})
 * @param bytes bytes stored (fields and bodies)
 * @param entries entries stored
 * @param evictions entries evicted to stay under {@code max_size}
 * @param backgroundRevalidations background revalidations started ({@code stale-while-revalidate})
 * @param backgroundFailures background revalidations that failed (error status, no answer, timeout): the stale
 *     entry stayed
 */
public record CacheStats(long hits, long misses, long staleServed, long bytes, long entries, long evictions,
                         long backgroundRevalidations, long backgroundFailures) {
    CacheStats(CacheStore s) {
        this(s.hits.sum(), s.misses.sum(), s.staleServed.sum(), s.bytes(), s.size(), s.evictions.sum(),
                s.backgroundRevalidations.sum(), s.backgroundFailures.sum());
    }
}
