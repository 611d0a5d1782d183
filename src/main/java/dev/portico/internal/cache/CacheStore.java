package dev.portico.internal.cache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiPredicate;

/**
 * The entries of one cache policy, in memory, bounded by bytes (fields and bodies): least recently used URLs go
 * first. Also the fills under way, so that concurrent misses for one URL make one backend request. Shared by the
 * event loops: one lock, held for map operations only (never while bytes are copied or written).
 */
final class CacheStore {
    private final long maxSize;
    /** By URL key, in access order: each URL's variants (one per distinct {@code Vary} value set). */
    private final LinkedHashMap<String, List<Entry>> entries = new LinkedHashMap<>(64, 0.75f, true);
    private final Map<String, Fill> fills = new HashMap<>();
    private long bytes;
    /** Entries (variants) held: kept as they change, so that reading it never walks the map under the lock. */
    private int count;

    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder staleServed = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder backgroundRevalidations = new LongAdder();
    final LongAdder backgroundFailures = new LongAdder();

    CacheStore(long maxSize) {
        this.maxSize = maxSize;
    }

    /** @return the variants stored for a URL (a copy), empty if none */
    synchronized List<Entry> get(String key) {
        List<Entry> v = entries.get(key);
        return v == null ? List.of() : List.copyOf(v);
    }

    /** Stores an entry, replacing a variant with the same request values, then evicts down to max_size. */
    synchronized void put(Entry e) {
        List<Entry> v = entries.computeIfAbsent(e.key, k -> new ArrayList<>(1));
        for (Iterator<Entry> it = v.iterator(); it.hasNext(); ) {
            Entry old = it.next();
            if (old.vary.equals(e.vary) || old.vary.keySet().equals(e.vary.keySet()) && e.vary.isEmpty()) {
                it.remove();
                bytes -= old.size;
                count--;
            }
        }
        v.add(e);
        bytes += e.size;
        count++;
        Iterator<Map.Entry<String, List<Entry>>> lru = entries.entrySet().iterator();
        while (bytes > maxSize && lru.hasNext()) {
            Map.Entry<String, List<Entry>> oldest = lru.next();
            for (Entry x : oldest.getValue()) {
                bytes -= x.size;
                evictions.increment();
            }
            count -= oldest.getValue().size();
            lru.remove();
        }
    }

    /** Replaces a stored entry with its freshened copy, if it is still stored. */
    synchronized void replace(Entry old, Entry fresh) {
        List<Entry> v = entries.get(old.key);
        int i = v == null ? -1 : v.indexOf(old);
        if (i >= 0) {
            v.set(i, fresh);
            bytes += fresh.size - old.size;
        }
    }

    /** Removes one stored entry (a variant), if it is still stored. */
    synchronized void drop(Entry e) {
        List<Entry> v = entries.get(e.key);
        if (v != null && v.remove(e)) {
            bytes -= e.size;
            count--;
            if (v.isEmpty()) {
                entries.remove(e.key);
            }
        }
    }

    /** @return how many entries were removed for the URL */
    synchronized int remove(String key) {
        List<Entry> v = entries.remove(key);
        if (v == null) {
            return 0;
        }
        for (Entry e : v) {
            bytes -= e.size;
        }
        count -= v.size();
        return v.size();
    }

    /**
     * @param match given an entry's host and path with query, whether it goes
     * @return how many entries were removed
     */
    synchronized int purge(BiPredicate<String, String> match) {
        int n = 0;
        for (Iterator<List<Entry>> it = entries.values().iterator(); it.hasNext(); ) {
            List<Entry> v = it.next();
            if (!v.isEmpty() && match.test(v.get(0).host, v.get(0).pathAndQuery)) {
                for (Entry e : v) {
                    bytes -= e.size;
                }
                n += v.size();
                count -= v.size();
                it.remove();
            }
        }
        return n;
    }

    /** @return the fill under way for the URL, after registering {@code candidate} as it if there was none */
    synchronized Fill joinOrLead(String key, Fill candidate) {
        Fill f = fills.get(key);
        if (f != null && f.acceptsWaiters()) {
            return f;
        }
        fills.put(key, candidate);
        return candidate;
    }

    /** The fill ended (stored or not): later misses start their own. */
    synchronized void fillEnded(Fill f) {
        fills.remove(f.key, f);
    }

    /** @return whether a fill (or a revalidation) for the URL is under way */
    synchronized boolean filling(String key) {
        return fills.containsKey(key);
    }

    /** @return how many requests wait for the fill under way for the URL (0 if none) */
    synchronized int waiting(String key) {
        Fill f = fills.get(key);
        return f == null ? 0 : f.waiting();
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized int size() {
        return count;
    }
}
