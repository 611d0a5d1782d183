package dev.portico.internal.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The meters of one route and upstream. They are registered on the route's first exchange rather than when the
 * configuration is loaded, so a reload of thousands of routes registers nothing; afterwards every call is a
 * lock-free increment. Thread-safe: event loops share it.
 */
public final class RouteMetrics {
    /** Histogram bucket bounds of the duration meters: enough for SLOs, few enough for thousands of routes. */
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};
    private static final String[] CLASSES = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    /** Meters of a registry with no backing registry: they record nothing anywhere. Shared by removed routes. */
    private static final Meters DETACHED = new Meters(new CompositeMeterRegistry(), "-", "-");

    private final Metrics owner;
    private final MeterRegistry registry;
    private final String route;
    private final String upstream;
    /** Made at most a few times (a benign race between loops registers the same meters twice). */
    private volatile Meters meters;

    RouteMetrics(Metrics owner, MeterRegistry registry, String route, String upstream) {
        this.owner = owner;
        this.registry = registry;
        this.route = route;
        this.upstream = upstream;
    }

    /**
     * Records a finished exchange.
     *
     * @param status the status sent, 0 if none
     * @param durationNanos from the request head to the end
     * @param requestBytes request body bytes received
     * @param responseBytes response body bytes sent
     */
    public void exchange(int status, long durationNanos, long requestBytes, long responseBytes) {
        Meters m = meters();
        int c = status / 100;
        m.requests[c >= 1 && c <= 5 ? c : 0].increment();
        m.duration.record(durationNanos, TimeUnit.NANOSECONDS);
        if (requestBytes > 0) {
            m.bytesIn.increment(requestBytes);
        }
        if (responseBytes > 0) {
            m.bytesOut.increment(responseBytes);
        }
    }

    /** @param status a response sent without an exchange, counted by status class alone */
    void response(int status) {
        int c = status / 100;
        meters().requests[c >= 1 && c <= 5 ? c : 0].increment();
    }

    /** @param nanos from the exchange's start to the upstream response head */
    public void upstreamResponse(long nanos) {
        meters().upstreamTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A request sent again on a new connection. */
    public void retry() {
        meters().retries.increment();
    }

    /** @param timeout whether the connect timed out (else it was refused or failed otherwise) */
    public void connectFailure(boolean timeout) {
        Meters m = meters();
        (timeout ? m.connectTimeout : m.connectRefused).increment();
    }

    /**
     * Counts a failed exchange by kind (not labelled by route: {@code portico_rejected_requests_total}).
     *
     * @param kind the failure kind
     */
    public void rejected(Enum<?> kind) {
        owner.rejected(kind);
    }

    /**
     * Removes this route's meters from the registry, if they were ever registered. Exchanges still in flight on
     * the route then record into unregistered meters, so a late exchange cannot bring the series back.
     */
    void remove() {
        Meters m = meters;
        meters = DETACHED;
        if (m == null) {
            return;
        }
        for (Counter c : m.requests) {
            registry.remove(c);
        }
        registry.remove(m.duration);
        registry.remove(m.upstreamTime);
        registry.remove(m.retries);
        registry.remove(m.bytesIn);
        registry.remove(m.bytesOut);
        // The connect failure meters are labelled by upstream alone and may be shared with a route that stays.
    }

    /** @return the route label */
    public String route() {
        return route;
    }

    /** @return the upstream label */
    public String upstream() {
        return upstream;
    }

    /**
     * The counts so far, for the dashboard's rates. Cheap enough to call once a second for every route; registers
     * nothing for a route that never had an exchange.
     *
     * @return cumulative counts; all zero for a route never used
     */
    public Reading read() {
        Meters m = meters;
        long[] byClass = new long[CLASSES.length];
        long[] buckets = new long[BUCKETS.length];
        if (m == null) {
            return new Reading(byClass, 0, 0, 0, buckets);
        }
        for (int i = 0; i < byClass.length; i++) {
            byClass[i] = (long) m.requests[i].count();
        }
        io.micrometer.core.instrument.distribution.CountAtBucket[] counts = m.duration.takeSnapshot()
                .histogramCounts();
        for (int i = 0; i < Math.min(counts.length, buckets.length); i++) {
            buckets[i] = (long) counts[i].count();
        }
        return new Reading(byClass, (long) m.bytesIn.count(), (long) m.bytesOut.count(), m.duration.count(),
                buckets);
    }

    /** @return the upper bounds of the duration histogram's buckets, in milliseconds */
    public static long[] bucketMillis() {
        long[] out = new long[BUCKETS.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = BUCKETS[i].toMillis();
        }
        return out;
    }

    /**
     * Cumulative counts of one route.
     *
     * @param byClass responses by status class: none, 1xx, 2xx, 3xx, 4xx, 5xx
     * @param bytesIn request body bytes
     * @param bytesOut response body bytes
     * @param exchanges exchanges timed
     * @param buckets exchanges at or under each bound of {@link #bucketMillis()}
     */
    public record Reading(long[] byClass, long bytesIn, long bytesOut, long exchanges, long[] buckets) {
    }

    private Meters meters() {
        Meters m = meters;
        if (m == null) {
            m = new Meters(registry, route, upstream);
            meters = m;
        }
        return m;
    }

    private static final class Meters {
        final Counter[] requests = new Counter[CLASSES.length];
        final Timer duration;
        final Timer upstreamTime;
        final Counter retries;
        final Counter bytesIn;
        final Counter bytesOut;
        final Counter connectRefused;
        final Counter connectTimeout;

        Meters(MeterRegistry registry, String route, String upstream) {
            Tags tags = Tags.of("route", route, "upstream", upstream);
            for (int i = 0; i < CLASSES.length; i++) {
                requests[i] = Counter.builder("portico.requests").tags(tags).tag("status_class", CLASSES[i])
                        .description("Requests by route, upstream and status class (none: no status sent)")
                        .register(registry);
            }
            duration = Timer.builder("portico.request.duration").tags(tags).serviceLevelObjectives(BUCKETS)
                    .description("From request head to the end of the response").register(registry);
            upstreamTime = Timer.builder("portico.upstream.response.time").tags(tags)
                    .serviceLevelObjectives(BUCKETS)
                    .description("From the start of the exchange (connect included) to the upstream response head")
                    .register(registry);
            retries = Counter.builder("portico.retries").tags(tags)
                    .description("Requests sent again on a new upstream connection").register(registry);
            bytesIn = Counter.builder("portico.request.bytes").tags(tags).baseUnit("bytes")
                    .description("Request body bytes received from clients").register(registry);
            bytesOut = Counter.builder("portico.response.bytes").tags(tags).baseUnit("bytes")
                    .description("Response body bytes sent to clients").register(registry);
            connectRefused = Counter.builder("portico.upstream.connect.failures").tag("upstream", upstream)
                    .tag("kind", "refused").description("Upstream connects that failed, by kind").register(registry);
            connectTimeout = Counter.builder("portico.upstream.connect.failures").tag("upstream", upstream)
                    .tag("kind", "timeout").description("Upstream connects that failed, by kind").register(registry);
        }
    }
}
