package dev.portico.internal.auth;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A bounded map whose entries expire: lookups are lock-free reads of a {@link ConcurrentHashMap}, so event loops
 * may use it. When a put takes it past its bound, expired entries are dropped and, if that is not enough, arbitrary
 * ones until a tenth of the room is free again: memory stays bounded whatever the keys, and a flood of new keys
 * costs only re-verification, never correctness.
 *
 * @param <K> the key, compared with {@code equals}
 * @param <V> the value
 */
public final class ExpiringCache<K, V> {
    private record Entry<V>(V value, long expiresAtNanos) {
    }

    private final ConcurrentHashMap<K, Entry<V>> map = new ConcurrentHashMap<>();
    private final int maxEntries;

    /** @param maxEntries the most entries held */
    public ExpiringCache(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive");
        }
        this.maxEntries = maxEntries;
    }

    /**
     * @param key the key
     * @param nowNanos the current {@link System#nanoTime()}
     * @return the value, or {@code null} if absent or expired
     */
    public V get(K key, long nowNanos) {
        Entry<V> e = map.get(key);
        if (e == null) {
            return null;
        }
        if (nowNanos - e.expiresAtNanos >= 0) {
            map.remove(key, e);
            return null;
        }
        return e.value;
    }

    /**
     * @param key the key
     * @param value the value
     * @param expiresAtNanos the {@link System#nanoTime()} from which it is no longer returned
     */
    public void put(K key, V value, long expiresAtNanos) {
        map.put(key, new Entry<>(value, expiresAtNanos));
        if (map.size() > maxEntries) {
            shrink(System.nanoTime());
        }
    }

    /** @param key the key to forget */
    public void remove(K key) {
        map.remove(key);
    }

    /** @return the number of entries, expired ones included until they are dropped */
    public int size() {
        return map.size();
    }

    private void shrink(long now) {
        map.values().removeIf(e -> now - e.expiresAtNanos >= 0);
        int target = maxEntries - maxEntries / 10;
        Iterator<Map.Entry<K, Entry<V>>> it = map.entrySet().iterator();
        while (map.size() > target && it.hasNext()) {
            it.next();
            it.remove();
        }
    }
}
