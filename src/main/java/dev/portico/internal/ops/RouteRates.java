package dev.portico.internal.ops;

import dev.portico.internal.metrics.RouteMetrics;
import dev.portico.internal.metrics.RouteMetrics.Reading;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the routes' cumulative counts into what the dashboard shows: requests per second, the share of 4xx and
 * 5xx, p50 and p99 latency and bytes per second, over the last {@value #WINDOW} samples. Used by the sampling
 * thread alone. A route keeps its history across reloads for as long as its meters are the same.
 */
final class RouteRates {
    /** Samples in the window: with one sample a second, rates over five seconds. */
    static final int WINDOW = 5;
    private static final long[] BOUNDS = RouteMetrics.bucketMillis();

    /** The last WINDOW + 1 readings of each route, oldest first in ring order. */
    private Map<RouteMetrics, Ring> rings = new IdentityHashMap<>();

    private static final class Ring {
        final Reading[] readings = new Reading[WINDOW + 1];
        final long[] at = new long[WINDOW + 1];
        int next;
        int size;

        void add(Reading r, long nanos) {
            readings[next] = r;
            at[next] = nanos;
            next = (next + 1) % readings.length;
            size = Math.min(size + 1, readings.length);
        }

        int oldest() {
            return size < readings.length ? 0 : next;
        }

        int newest() {
            return (next + readings.length - 1) % readings.length;
        }
    }

    /**
     * What one route did over the window.
     *
     * @param rps requests per second
     * @param share4xx share of responses with a 4xx status, 0 to 1
     * @param share5xx share of responses with a 5xx status, 0 to 1
     * @param p50 median duration in milliseconds, -1 without requests
     * @param p99 99th percentile duration in milliseconds, -1 without requests
     * @param bytesPerSecond response and request body bytes per second
     * @param buckets exchanges per duration bucket in the window (the last one is beyond every bound)
     */
    record Rate(double rps, double share4xx, double share5xx, double p50, double p99, double bytesPerSecond,
                long[] buckets) {
    }

    /**
     * Reads every route and returns its rates, in the order given.
     *
     * @param routes the running routes' meters
     * @param nanos now, from {@link System#nanoTime()}
     * @return the rates, one per route
     */
    Rate[] sample(List<RouteMetrics> routes, long nanos) {
        Map<RouteMetrics, Ring> next = new IdentityHashMap<>(routes.size() * 2);
        Rate[] out = new Rate[routes.size()];
        for (int i = 0; i < out.length; i++) {
            RouteMetrics m = routes.get(i);
            Ring ring = rings.get(m);
            if (ring == null) {
                ring = new Ring();
            }
            ring.add(m.read(), nanos);
            next.put(m, ring);
            out[i] = rate(ring);
        }
        rings = next;
        return out;
    }

    private static Rate rate(Ring ring) {
        Reading a = ring.readings[ring.oldest()];
        Reading b = ring.readings[ring.newest()];
        double seconds = (ring.at[ring.newest()] - ring.at[ring.oldest()]) / 1e9;
        long[] buckets = new long[BOUNDS.length + 1];
        if (seconds <= 0) {
            return new Rate(0, 0, 0, -1, -1, 0, buckets);
        }
        long requests = 0;
        for (int c = 0; c < b.byClass().length; c++) {
            requests += Math.max(0, b.byClass()[c] - a.byClass()[c]);
        }
        long c4 = Math.max(0, b.byClass()[4] - a.byClass()[4]);
        long c5 = Math.max(0, b.byClass()[5] - a.byClass()[5]);
        long timed = Math.max(0, b.exchanges() - a.exchanges());
        long below = 0;
        for (int i = 0; i < BOUNDS.length; i++) {
            long cumulative = Math.max(0, b.buckets()[i] - a.buckets()[i]);
            buckets[i] = Math.max(0, cumulative - below);
            below = Math.max(below, cumulative);
        }
        buckets[BOUNDS.length] = Math.max(0, timed - below);
        double bytes = Math.max(0, b.bytesIn() - a.bytesIn()) + Math.max(0, b.bytesOut() - a.bytesOut());
        return new Rate(requests / seconds, requests == 0 ? 0 : (double) c4 / requests,
                requests == 0 ? 0 : (double) c5 / requests, quantile(buckets, 0.5), quantile(buckets, 0.99),
                bytes / seconds, buckets);
    }

    /**
     * @param buckets counts per bucket, the last beyond every bound
     * @param q the quantile, 0 to 1
     * @return the duration in milliseconds, interpolated within its bucket; -1 without counts
     */
    static double quantile(long[] buckets, double q) {
        long total = 0;
        for (long b : buckets) {
            total += b;
        }
        if (total == 0) {
            return -1;
        }
        double target = q * total;
        long seen = 0;
        for (int i = 0; i < BOUNDS.length; i++) {
            if (buckets[i] > 0 && seen + buckets[i] >= target) {
                double lo = i == 0 ? 0 : BOUNDS[i - 1];
                return lo + (BOUNDS[i] - lo) * (target - seen) / buckets[i];
            }
            seen += buckets[i];
        }
        return BOUNDS[BOUNDS.length - 1]; // beyond the last bound: shown as at least that
    }

    /** @return {@code v} with at most {@code digits} (0 to 3) decimals, as JSON; no formatter: it runs per cell */
    static String num(double v, int digits) {
        if (!Double.isFinite(v)) {
            return "null";
        }
        long scale = digits == 0 ? 1 : digits == 1 ? 10 : digits == 2 ? 100 : 1000;
        long r = Math.round(Math.abs(v) * scale);
        if (r == 0) {
            return "0";
        }
        StringBuilder sb = new StringBuilder(12);
        if (v < 0) {
            sb.append('-');
        }
        sb.append(r / scale);
        long fraction = r % scale;
        if (fraction != 0) {
            String f = Long.toString(scale + fraction).substring(1); // zero-padded to the digits
            int end = f.length();
            while (f.charAt(end - 1) == '0') {
                end--;
            }
            sb.append('.').append(f, 0, end);
        }
        return sb.toString();
    }
}
