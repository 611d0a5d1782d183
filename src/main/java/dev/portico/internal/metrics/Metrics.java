package dev.portico.internal.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import dev.portico.internal.cache.CacheStats;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.function.ToDoubleFunction;

/**
 * The metrics of one running proxy, in its own Prometheus registry (two proxies in one JVM do not mix their counts).
 * Meters that do not depend on a route are made up front; per-route ones are in {@link RouteMetrics}, one per
 * distinct route and upstream, kept across reloads so counts continue.
 */
public final class Metrics implements AutoCloseable {
    /** The route and upstream label of a response that no route or upstream produced. */
    public static final String LOCAL = "none";
    private final CoarseClock clock = new CoarseClock();
    /** Histograms carry the trace of a recent sampled request as an exemplar (shown in the OpenMetrics format). */
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT,
            new io.prometheus.metrics.model.registry.PrometheusRegistry(), clock, new Exemplars());
    private final ConcurrentHashMap<String, RouteMetrics> routes = new ConcurrentHashMap<>();
    /** The decision counters by policy label, for the dashboard (the registry holds the meters themselves). */
    private final ConcurrentHashMap<String, PolicyDecisions> decisions = new ConcurrentHashMap<>();
    /** Counters with one tag, by meter name then tag value, for the dashboard. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> tagged = new ConcurrentHashMap<>();
    /** One counter per failure kind, by the kind's ordinal. */
    private final Counter[] rejected;
    /** Responses Portico makes itself, before any route or upstream: labelled {@code none}, never retired. */
    private final RouteMetrics local = new RouteMetrics(this, registry, LOCAL, LOCAL);
    private final Counter reloadOk;
    private final Counter reloadFailed;
    private final Counter tlsOk;
    private final Counter tlsFailed;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /** Whether the JVM gauges are bound: see {@link #bindJvmGauges}. */
    private volatile boolean jvmGaugesBound;
    /** What gauges read: Micrometer holds them weakly, so they are held here for as long as the registry. */
    private final List<Object> gaugeSources = new CopyOnWriteArrayList<>();

    /**
     * Registers the process-wide meters: the collector's, Netty's memory; the JVM gauges at the first scrape.
     *
     * @param failureKinds the failure taxonomy's enum, whose constants label {@code portico_rejected_requests_total}
     *     (given rather than imported, so metrics stays below the exchange in the layering)
     */
    public Metrics(Class<? extends Enum<?>> failureKinds) {
        Enum<?>[] kinds = failureKinds.getEnumConstants();
        rejected = new Counter[kinds.length];
        for (Enum<?> k : kinds) {
            rejected[k.ordinal()] = Counter.builder("portico.rejected.requests")
                    .description("Requests that failed or were refused, by failure kind")
                    .tag("reason", k.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        reloadOk = Counter.builder("portico.reloads").tag("outcome", "success")
                .description("Configuration reloads by outcome").register(registry);
        reloadFailed = Counter.builder("portico.reloads").tag("outcome", "failure")
                .description("Configuration reloads by outcome").register(registry);
        tlsOk = Counter.builder("portico.tls.handshakes").tag("outcome", "success")
                .description("TLS handshakes with clients by outcome").register(registry);
        tlsFailed = Counter.builder("portico.tls.handshakes").tag("outcome", "failure")
                .description("TLS handshakes with clients by outcome").register(registry);
        gc.bindTo(registry); // counts collections as they happen, so from the start
        Gauge.builder("portico.netty.direct.memory.used", PlatformDependent::usedDirectMemory).strongReference(true)
                .description("Direct memory reserved by Netty (-1 if Netty does not count it)").baseUnit("bytes")
                .register(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            gaugeSources.add(p);
            Gauge.builder("portico.netty.allocator.used", p, a -> a.metric().usedDirectMemory())
                    .tag("memory", "direct").baseUnit("bytes")
                    .description("Memory used by Netty's default buffer allocator").register(registry);
            Gauge.builder("portico.netty.allocator.used", p, a -> a.metric().usedHeapMemory())
                    .tag("memory", "heap").baseUnit("bytes")
                    .description("Memory used by Netty's default buffer allocator").register(registry);
        }
    }

    /**
     * The meters of a route, made (without registering anything yet) when a configuration is loaded.
     *
     * @param route the route's label: its host, if any, and path prefix, e.g. {@code api.example.com/v1}
     * @param upstream the upstream label: the route's upstream as configured
     * @return the route's meters, the same object for the same labels
     */
    public RouteMetrics route(String route, String upstream) {
        return routes.computeIfAbsent(route + '\n' + upstream, k -> new RouteMetrics(this, registry, route, upstream));
    }

    /**
     * Forgets the meters of routes no longer configured (after a reload), so their series leave {@code /metrics}
     * and label cardinality stays that of the running configuration. Exchanges still in flight on a removed route
     * record into meters nobody scrapes, which is harmless.
     *
     * @param live the meter sets of the running configuration
     */
    public void retainRoutes(java.util.Collection<RouteMetrics> live) {
        java.util.Set<RouteMetrics> keep = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        keep.addAll(live);
        routes.values().removeIf(rm -> {
            if (keep.contains(rm)) {
                return false;
            }
            rm.remove();
            return true;
        });
    }

    /**
     * Counts a request that failed or was refused.
     *
     * @param kind the failure kind, a constant of the enum given to the constructor
     */
    public void rejected(Enum<?> kind) {
        rejected[kind.ordinal()].increment();
    }

    /**
     * Counts a response Portico made without an exchange (400, 404, 408, 413, 431, a redirect...) in
     * {@code portico_requests_total} by status class, with route and upstream {@value #LOCAL}, so that requests by
     * status add up to every response sent.
     *
     * @param status the status sent, 0 if none was
     */
    public void localResponse(int status) {
        local.response(status);
    }

    /**
     * @param policy the policy's label
     * @return its {@code portico_policy_decisions_total} counters (the same meters for the same label)
     */
    public PolicyDecisions policyDecisions(String policy) {
        return decisions.computeIfAbsent(policy, p -> new PolicyDecisions(registry, p));
    }

    /**
     * @return {@code portico_policy_decisions_total} of every policy label counted so far, sorted by label, each
     *     indexed by outcome as {@link PolicyDecisions#counts()}; any thread, a few reads per label
     */
    public java.util.SortedMap<String, long[]> policyDecisionCounts() {
        java.util.SortedMap<String, long[]> out = new java.util.TreeMap<>();
        decisions.forEach((label, d) -> out.put(label, d.counts()));
        return out;
    }

    /**
     * Registers (or finds) a counter with one tag.
     *
     * @param name the meter name, dotted
     * @param description what it counts
     * @param tag the tag name
     * @param tagValue the tag value
     * @return what increments it; thread-safe and lock-free
     */
    public Runnable counter(String name, String description, String tag, String tagValue) {
        Counter c = Counter.builder(name).tag(tag, tagValue).description(description).register(registry);
        tagged.computeIfAbsent(name, n -> new ConcurrentHashMap<>()).put(tagValue, c);
        return c::increment;
    }

    /**
     * @param name a meter name given to {@link #counter(String, String, String, String)}
     * @return its counts so far by tag value, sorted; empty if there is no such counter; any thread
     */
    public java.util.SortedMap<String, Long> counts(String name) {
        java.util.SortedMap<String, Long> out = new java.util.TreeMap<>();
        Map<String, Counter> byTag = tagged.get(name);
        if (byTag != null) {
            byTag.forEach((v, c) -> out.put(v, (long) c.count()));
        }
        return out;
    }

    /**
     * Registers the cache meters, read at each scrape from the live cache policies (summed over them; a cache
     * dropped by a reload takes its counts with it).
     *
     * @param source the statistics of every cache policy of the running configuration
     */
    public void caches(Supplier<List<CacheStats>> source) {
        gaugeSources.add(source);
        cacheCounter("portico.cache.hits", "Requests answered from a cache", source, CacheStats::hits);
        cacheCounter("portico.cache.misses", "Requests a cache forwarded: nothing usable stored", source,
                CacheStats::misses);
        cacheCounter("portico.cache.stale.served", "Stale cache entries served", source, CacheStats::staleServed);
        cacheCounter("portico.cache.evictions", "Cache entries evicted to stay under max_size", source,
                CacheStats::evictions);
        cacheCounter("portico.cache.revalidations.background", "Background revalidations (stale-while-revalidate)",
                source, CacheStats::backgroundRevalidations);
        cacheCounter("portico.cache.revalidations.background.failed", "Background revalidations that failed, the "
                + "stale entry kept", source, CacheStats::backgroundFailures);
        Gauge.builder("portico.cache.stored", source, s -> s.get().stream().mapToLong(CacheStats::bytes).sum())
                .baseUnit("bytes").description("Bytes held by caches (fields and bodies)").register(registry);
        Gauge.builder("portico.cache.entries", source, s -> s.get().stream().mapToLong(CacheStats::entries).sum())
                .description("Entries held by caches").register(registry);
    }

    private void cacheCounter(String name, String description, Supplier<List<CacheStats>> source,
                              ToLongFunction<CacheStats> f) {
        FunctionCounter.builder(name, source, s -> s.get().stream().mapToLong(f).sum())
                .description(description).register(registry);
    }

    /** @param success whether a reload was applied */
    public void reload(boolean success) {
        (success ? reloadOk : reloadFailed).increment();
    }

    /**
     * Counts a TLS handshake with a client.
     *
     * @param success whether it completed
     */
    public void tlsHandshake(boolean success) {
        (success ? tlsOk : tlsFailed).increment();
    }

    /**
     * Registers a gauge read at each scrape.
     *
     * @param name the meter name, dotted ({@code portico.client.connections.active})
     * @param description what it measures
     * @param value read on the scraping thread; must be thread-safe
     */
    public void gauge(String name, String description, LongSupplier value) {
        gaugeSources.add(value);
        Gauge.builder(name, value, v -> (double) v.getAsLong()).description(description).register(registry);
    }

    /**
     * Registers a gauge with one tag.
     *
     * @param name the meter name
     * @param tag the tag name
     * @param tagValue the tag value
     * @param description what it measures
     * @param obj what the gauge reads
     * @param value how it reads it, on the scraping thread
     * @param <T> the type of what is read
     */
    public <T> void gauge(String name, String tag, String tagValue, String description, T obj,
                          ToDoubleFunction<T> value) {
        gaugeSources.add(obj);
        Gauge.builder(name, obj, value).tag(tag, tagValue).description(description).register(registry);
    }

    /**
     * Registers a counter read at each scrape from a count kept elsewhere.
     *
     * @param name the meter name
     * @param description what it counts
     * @param value the monotonic count, read on the scraping thread
     */
    public void counter(String name, String description, LongSupplier value) {
        gaugeSources.add(value);
        FunctionCounter.builder(name, value, v -> (double) v.getAsLong()).description(description)
                .register(registry);
    }

    /**
     * Binds the JVM's memory, thread, class, CPU and uptime gauges, at the first scrape rather than at start-up
     * (about 20 ms that the first request does not need). They read the JVM's current values when scraped, so
     * binding them late loses nothing; the collector's meters, which count events, are bound from the start.
     */
    private void bindJvmGauges() {
        if (jvmGaugesBound) {
            return;
        }
        synchronized (this) {
            if (!jvmGaugesBound) {
                new JvmMemoryMetrics().bindTo(registry);
                new JvmThreadMetrics().bindTo(registry);
                new ClassLoaderMetrics().bindTo(registry);
                new ProcessorMetrics().bindTo(registry);
                new UptimeMetrics().bindTo(registry);
                jvmGaugesBound = true;
            }
        }
    }

    /** @return every meter in the Prometheus text format */
    public String scrape() {
        bindJvmGauges();
        return registry.scrape();
    }

    /**
     * @param accept the scraper's {@code Accept} field, or {@code null}
     * @return every meter in the format it asks for: OpenMetrics (with exemplars) or the Prometheus text format
     */
    public String scrape(String accept) {
        bindJvmGauges();
        return registry.scrape(accept == null ? "text/plain" : accept);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
        clock.close();
    }
}
