package dev.portico.internal.auth;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JWK set fetched from a URL and kept: fetched when made, refreshed (by the traffic that reads it, on the HTTP
 * client's threads) once 80% of its lifetime has passed, so keys are renewed before they expire, and fetched again
 * when a token names a key the set does not have, at most once per {@link #MISS_INTERVAL}, so tokens with made-up
 * key ids cannot make Portico hammer the identity provider. A failed fetch (down, slow, garbage) keeps the keys
 * held: a brief outage of the identity provider refuses no token it signed with a known key. Thread-safe; nothing
 * here blocks.
 */
public final class JwksSource {
    private static final Logger LOG = LoggerFactory.getLogger(JwksSource.class);
    /** The lifetime of a set whose answer had no {@code max-age}. */
    static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    /** Bounds on a {@code max-age}: an identity provider saying 0 still gets cached briefly. */
    static final Duration MIN_TTL = Duration.ofSeconds(30);
    static final Duration MAX_TTL = Duration.ofHours(24);
    /** The least time between two fetches that unknown key ids (or failed refreshes) start. */
    static final Duration MISS_INTERVAL = Duration.ofSeconds(10);

    private final URI url;
    private final Duration timeout;
    private final LongSupplier clock;
    private final LogLimiter warnings;
    private volatile KeySet keys = KeySet.EMPTY;
    private volatile String body = "";
    private volatile long refreshAt;
    private final AtomicLong lastMissFetch;
    private final AtomicReference<CompletableFuture<KeySet>> inFlight = new AtomicReference<>();

    /**
     * Starts the first fetch.
     *
     * @param url the JWK set's URL
     * @param timeout how long one fetch may take, body included
     */
    public JwksSource(URI url, Duration timeout) {
        this(url, timeout, System::nanoTime);
    }

    JwksSource(URI url, Duration timeout, LongSupplier clock) {
        this.url = url;
        this.timeout = timeout;
        this.clock = clock;
        this.warnings = new LogLimiter(LOG, MISS_INTERVAL.toNanos(), true);
        long now = clock.getAsLong();
        this.refreshAt = now;
        this.lastMissFetch = new AtomicLong(now - MISS_INTERVAL.toNanos());
        fetch();
    }

    /** @return the keys held now; starts a refresh in the background if one is due */
    public KeySet keys() {
        long now = clock.getAsLong();
        // The fetch in flight first: a fetch sets refreshAt before it clears inFlight, so a reader that finds none
        // in flight then reads the refreshAt it set. The other order could read the old refreshAt, then find the
        // fetch just done, and start another at once.
        if (inFlight.get() == null && now - refreshAt >= 0) {
            long last = lastMissFetch.get();
            // a refresh that failed is retried at the miss pace, not on every request
            if (now - last >= MISS_INTERVAL.toNanos() && lastMissFetch.compareAndSet(last, now)) {
                fetch();
            }
        }
        return keys;
    }

    /** As {@link #refetch(KeySet)} for the set held now. */
    CompletableFuture<KeySet> refetch() {
        return refetch(keys);
    }

    /**
     * For a token whose key the set {@code seen} lacks.
     *
     * @param seen the set the caller looked the key up in (from {@link #keys()})
     * @return the set after the fetch in flight; the set held now if it is newer than {@code seen} (a fetch ended
     *     since the caller looked: it is the newest, and fetching again at once would only repeat it); one started
     *     now; or {@code null} if one was started less than {@link #MISS_INTERVAL} ago. The future always completes
     *     normally, with the keys held after the attempt
     */
    public CompletableFuture<KeySet> refetch(KeySet seen) {
        CompletableFuture<KeySet> f = inFlight.get();
        if (f != null) {
            return f;
        }
        KeySet held = keys; // read after inFlight: a fetch sets the keys before it clears inFlight
        if (held != seen) {
            return CompletableFuture.completedFuture(held);
        }
        long now = clock.getAsLong();
        long last = lastMissFetch.get();
        if (now - last < MISS_INTERVAL.toNanos() || !lastMissFetch.compareAndSet(last, now)) {
            return null;
        }
        return fetch();
    }

    private CompletableFuture<KeySet> fetch() {
        CompletableFuture<KeySet> f = new CompletableFuture<>();
        if (!inFlight.compareAndSet(null, f)) {
            CompletableFuture<KeySet> other = inFlight.get();
            return other != null ? other : CompletableFuture.completedFuture(keys);
        }
        JwksFetch.get(url, timeout).whenCompleteAsync((r, e) -> {
            try {
                if (e != null) {
                    warnings.log("jwt: fetching the JWK set {} failed, keeping the {} keys held: {}", url,
                            keys.size(), String.valueOf(e instanceof java.util.concurrent.CompletionException
                                    ? e.getCause() : e));
                } else {
                    accept(r);
                }
            } catch (RuntimeException x) {
                warnings.log("jwt: the JWK set {} is unusable, keeping the {} keys held: {}", url, keys.size(),
                        x.getMessage());
            } finally {
                inFlight.set(null);
                f.complete(keys);
            }
        }, JwksFetch.EXECUTOR);
        return f;
    }

    private void accept(JwksFetch.Result r) {
        KeySet next = r.body().equals(body) ? keys
                : KeySet.ofJwks(KeyMaterial.jwks(r.body()), keys.generation() + 1);
        Duration ttl = r.maxAge() == null ? DEFAULT_TTL
                : r.maxAge().compareTo(MIN_TTL) < 0 ? MIN_TTL : r.maxAge().compareTo(MAX_TTL) > 0 ? MAX_TTL
                : r.maxAge();
        body = r.body();
        keys = next;
        refreshAt = clock.getAsLong() + ttl.toNanos() / 10 * 8;
        LOG.debug("jwt: {} keys from {}, refreshed in {} s", next.size(), url, ttl.toSeconds() * 8 / 10);
    }
}
