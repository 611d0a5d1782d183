package dev.portico.internal.policy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A table of per-key state with a hard bound on its size: at most {@code maxKeys} entries, the least recently used
 * dropped first. Split into stripes, each a small access-ordered map under its own lock, so event loops deciding
 * for different keys rarely meet, and one decision is a hash, an uncontended lock and a map lookup. A flood of
 * distinct keys therefore costs a bounded amount of memory: it evicts the keys idle the longest.
 *
 * @param <V> the state of one key; touched only under its stripe's lock
 */
final class BoundedTable<V> {
    private static final int STRIPES = 16;

    private final Stripe<V>[] stripes;
    private final Function<String, V> factory;
    private final int maxKeys;

    @SuppressWarnings("unchecked")
    BoundedTable(int maxKeys, Function<String, V> factory) {
        if (maxKeys < STRIPES) {
            throw new IllegalArgumentException("maxKeys must be at least " + STRIPES);
        }
        this.maxKeys = maxKeys;
        this.factory = factory;
        stripes = new Stripe[STRIPES];
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe<>(maxKeys / STRIPES);
        }
    }

    /** What a caller does with a key's state, under the stripe's lock. */
    interface Action<V, R> {
        R apply(V state, long arg);
    }

    /**
     * Runs {@code action} on the state of {@code key} (made if absent, evicting the stripe's eldest if full).
     *
     * @return what the action returned
     */
    <R> R with(String key, long arg, Action<V, R> action) {
        int h = key.hashCode();
        Stripe<V> s = stripes[(h ^ (h >>> 16)) & (STRIPES - 1)];
        synchronized (s) {
            V v = s.get(key);
            if (v == null) {
                v = factory.apply(key);
                s.put(key, v);
            }
            return action.apply(v, arg);
        }
    }

    /** @return the number of keys held now */
    int size() {
        int n = 0;
        for (Stripe<V> s : stripes) {
            synchronized (s) {
                n += s.size();
            }
        }
        return n;
    }

    /** @return the most keys ever held */
    int maxKeys() {
        return maxKeys;
    }

    private static final class Stripe<V> extends LinkedHashMap<String, V> {
        private final int capacity;

        Stripe(int capacity) {
            super(16, 0.75f, true);
            this.capacity = capacity;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
            return size() > capacity;
        }
    }
}
