package dev.portico.internal.ops;

import java.util.HashMap;
import java.util.Map;

/**
 * How much each of a key's monotonic counters grew over the dashboard's window ({@value RouteRates#WINDOW}
 * samples), as {@link RouteRates} does for routes. Keys are compared with {@code equals} (an object that does not
 * override it, such as a live policy, counts by identity, so a replaced one starts afresh). Used by the sampling
 * thread alone.
 *
 * @param <K> what the counters belong to
 */
final class CounterWindow<K> {
    private Map<K, Ring> rings = new HashMap<>();

    /** The last WINDOW + 1 readings of one key. */
    private static final class Ring {
        final long[][] readings = new long[RouteRates.WINDOW + 1][];
        final long[] at = new long[RouteRates.WINDOW + 1];
        int next;
        int size;
    }

    /**
     * What a key's counters did over the window.
     *
     * @param now the counts now
     * @param grew how much each grew over the window (never negative)
     * @param seconds how long the window was; 0 at the first reading
     */
    record Change(long[] now, long[] grew, double seconds) {
        /** @return counter {@code i}'s growth per second over the window; 0 before there is a window */
        double rate(int i) {
            return seconds <= 0 ? 0 : grew[i] / seconds;
        }
    }

    /**
     * Takes a reading of every key; keys not read this time are forgotten.
     *
     * @param counts the counts of each key now
     * @param nanos now, from {@link System#nanoTime()}
     * @return what each key's counters did over the window, in the order of {@code counts}
     */
    Map<K, Change> sample(Map<K, long[]> counts, long nanos) {
        Map<K, Ring> next = new HashMap<>(counts.size() * 2);
        Map<K, Change> out = new java.util.LinkedHashMap<>(counts.size() * 2);
        counts.forEach((k, now) -> {
            Ring ring = rings.get(k);
            if (ring == null || ring.readings[0] != null && ring.readings[0].length != now.length) {
                ring = new Ring();
            }
            ring.readings[ring.next] = now;
            ring.at[ring.next] = nanos;
            ring.next = (ring.next + 1) % ring.readings.length;
            ring.size = Math.min(ring.size + 1, ring.readings.length);
            int oldest = ring.size < ring.readings.length ? 0 : ring.next;
            long[] then = ring.readings[oldest];
            long[] grew = new long[now.length];
            for (int i = 0; i < now.length; i++) {
                grew[i] = Math.max(0, now[i] - then[i]);
            }
            out.put(k, new Change(now, grew, (nanos - ring.at[oldest]) / 1e9));
            next.put(k, ring);
        });
        rings = next;
        return out;
    }
}
