package dev.portico.internal.balance;

import dev.portico.config.PassiveConfig;
import dev.portico.config.RetryConfig;
import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.internal.tls.UpstreamTlsClient;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live state of one upstream: its endpoints (an immutable snapshot, replaced when DNS answers change), endpoint
 * selection, passive outlier ejection and the retry budget. Selection runs on any event loop without locks; the
 * round-robin position is kept per loop.
 */
public final class UpstreamGroup {
    private static final Logger LOG = LoggerFactory.getLogger("portico.upstream");
    /** Selection passes, in order: in service, untried and with room; in service and untried; in service. */
    private static final int USABLE = 0;
    private static final int UNTRIED = 1;
    private static final int ANY = 2;
    /** Then, only when no endpoint is in service (panic mode): untried whatever their health; any. */
    private static final int PANIC_UNTRIED = 3;
    private static final int PANIC_ANY = 4;

    /** The endpoints at one moment, and the hash ring over them. */
    private record Snapshot(Endpoint[] endpoints, HashRing ring) {
    }

    /** One loop's round-robin position over one snapshot. */
    private static final class RoundRobinState {
        Snapshot snapshot;
        long[] current;
    }

    private final UpstreamConfig config;
    private final String name;
    private final Map<ServerConfig, UpstreamTlsClient> tlsClients;
    /** {@code retry.retry_on}'s status codes, parsed once (exchanges ask on every response head). */
    private final BitSet retryStatuses;
    private final long slowStartNanos;
    private final FastThreadLocal<RoundRobinState> roundRobin = new FastThreadLocal<>() {
        @Override
        protected RoundRobinState initialValue() {
            return new RoundRobinState();
        }
    };
    private volatile Snapshot snapshot = new Snapshot(new Endpoint[0], null);
    private volatile boolean closed;
    private final AtomicInteger requestsInFlight = new AtomicInteger();
    private final AtomicInteger retriesInFlight = new AtomicInteger();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong retriesRefusedByBudget = new AtomicLong();
    private final AtomicLong ejectionsTotal = new AtomicLong();

    /**
     * @param config the upstream's configuration
     * @param displayName the name for logs: the upstream's name, or the route's for an unnamed one
     */
    public UpstreamGroup(UpstreamConfig config, String displayName) {
        this(config, displayName, Map.of());
    }

    /**
     * @param config the upstream's configuration
     * @param displayName the name for logs: the upstream's name, or the route's for an unnamed one
     * @param tlsClients the TLS client of each {@code https://} server
     */
    public UpstreamGroup(UpstreamConfig config, String displayName, Map<ServerConfig, UpstreamTlsClient> tlsClients) {
        this.config = config;
        this.tlsClients = tlsClients;
        this.retryStatuses = config.retry().statuses();
        this.name = displayName;
        this.slowStartNanos = config.slowStart().toNanos();
    }

    /**
     * @param status a response status
     * @return whether {@code retry.retry_on} lists it
     */
    public boolean retriesStatus(int status) {
        return retryStatuses.get(status);
    }

    /** @return the configuration */
    public UpstreamConfig config() {
        return config;
    }

    /** @return the name for logs and metrics */
    public String name() {
        return name;
    }

    /** @return the endpoints now */
    public List<Endpoint> endpoints() {
        return List.of(snapshot.endpoints);
    }

    /**
     * Replaces the addresses of one server, keeping the state of the endpoints whose address stays.
     *
     * @param server the server
     * @param addresses its addresses now
     */
    public void setAddresses(ServerConfig server, List<InetSocketAddress> addresses) {
        Endpoint[] old = snapshot.endpoints;
        List<Endpoint> next = new ArrayList<>();
        for (Endpoint e : old) {
            if (e.server() != server) {
                next.add(e);
            }
        }
        for (InetSocketAddress a : addresses) {
            Endpoint kept = null;
            for (Endpoint e : old) {
                if (e.server() == server && e.address().equals(a)) {
                    kept = e;
                }
            }
            next.add(kept != null ? kept : new Endpoint(server, a, tlsClients.get(server),
                    config.protocol(), config.http2()));
        }
        // Keep config order, so round robin and the ring do not depend on resolution order.
        List<Endpoint> ordered = new ArrayList<>();
        for (ServerConfig s : config.servers()) {
            for (Endpoint e : next) {
                if (e.server() == s) {
                    ordered.add(e);
                }
            }
        }
        Endpoint[] eps = ordered.toArray(new Endpoint[0]);
        snapshot = new Snapshot(eps, config.balance() == UpstreamConfig.Balance.HASH ? new HashRing(eps) : null);
    }

    /**
     * Picks an endpoint for one try. Endpoints that pass their checks and were not tried come first, those with a
     * free connection slot before those at {@code max_connections} (whose requests wait in {@code max_pending}), then
     * tried ones. Only when no endpoint is in service are the others used (panic mode: better a try than a refusal):
     * an endpoint out of service never takes traffic because the healthy ones are busy.
     *
     * @param hashKey the key for {@code balance: hash}, or {@code null} (round robin then)
     * @param tried endpoints earlier tries of this request used (may hold nulls)
     * @return the endpoint, or {@code null} if the upstream has no endpoint at all
     */
    public Endpoint select(String hashKey, Endpoint[] tried) {
        Snapshot s = snapshot;
        if (s.endpoints.length == 0) {
            return null;
        }
        long now = System.nanoTime();
        for (int mode = USABLE; mode <= PANIC_ANY; mode++) {
            Endpoint e = switch (config.balance()) {
                case ROUND_ROBIN -> roundRobin(s, mode, tried, now);
                case LEAST_REQUEST -> leastRequest(s, mode, tried, now);
                case RANDOM -> random(s, mode, tried, now);
                case HASH -> hashKey == null ? roundRobin(s, mode, tried, now) : hash(s, hashKey, mode, tried, now);
            };
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    private boolean accept(Endpoint e, int mode, Endpoint[] tried, long now) {
        if (mode != ANY && mode != PANIC_ANY && tried != null) {
            for (Endpoint t : tried) {
                if (t == e) {
                    return false;
                }
            }
        }
        if (mode >= PANIC_UNTRIED) {
            return true; // reached only when no endpoint passed the passes before: none is in service
        }
        return e.available(now) && (mode != USABLE || hasRoom(e));
    }

    /** An endpoint at {@code max_connections} with no idle connection is passed over while another has room. */
    private boolean hasRoom(Endpoint e) {
        int max = config.maxConnections();
        return max == 0 || e.connections() < max || e.idleConnections() > 0;
    }

    /** The weight scaled by slow start: a recovered endpoint ramps from a tenth of its weight to all of it. */
    long effectiveWeight(Endpoint e, long now) {
        long w = e.weight() * 1000L;
        if (slowStartNanos > 0) {
            long start = e.rampStart();
            long elapsed = now - start;
            if (start != 0 && elapsed >= 0 && elapsed < slowStartNanos) {
                return Math.max(w / 10, (long) (w * ((double) elapsed / slowStartNanos)));
            }
        }
        return w;
    }

    private Endpoint roundRobin(Snapshot s, int mode, Endpoint[] tried, long now) {
        RoundRobinState st = roundRobin.get();
        if (st.snapshot != s) {
            st.snapshot = s;
            st.current = new long[s.endpoints.length];
        }
        long[] cur = st.current;
        Endpoint[] eps = s.endpoints;
        long total = 0;
        int best = -1;
        for (int i = 0; i < eps.length; i++) {
            if (!accept(eps[i], mode, tried, now)) {
                continue;
            }
            long w = effectiveWeight(eps[i], now);
            cur[i] += w;
            total += w;
            if (best < 0 || cur[i] > cur[best]) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        cur[best] -= total;
        return eps[best];
    }

    /**
     * Power of two choices: two distinct endpoints picked at random in proportion to their weights, and the one
     * with fewer requests in flight per unit of weight wins (the first pick on a tie, so idle endpoints still share
     * traffic by weight).
     */
    private Endpoint leastRequest(Snapshot s, int mode, Endpoint[] tried, long now) {
        Endpoint a = weightedRandom(s, mode, tried, now, null);
        if (a == null) {
            return null;
        }
        Endpoint b = weightedRandom(s, mode, tried, now, a);
        if (b == null) {
            return a;
        }
        long wa = effectiveWeight(a, now);
        long wb = effectiveWeight(b, now);
        // b.inFlight / wb < a.inFlight / wa, without division
        return (long) b.inFlight() * wa < (long) a.inFlight() * wb ? b : a;
    }

    private Endpoint random(Snapshot s, int mode, Endpoint[] tried, long now) {
        return weightedRandom(s, mode, tried, now, null);
    }

    private Endpoint weightedRandom(Snapshot s, int mode, Endpoint[] tried, long now, Endpoint except) {
        long total = 0;
        for (Endpoint e : s.endpoints) {
            if (e != except && accept(e, mode, tried, now)) {
                total += effectiveWeight(e, now);
            }
        }
        if (total == 0) {
            return null;
        }
        long r = ThreadLocalRandom.current().nextLong(total);
        for (Endpoint e : s.endpoints) {
            if (e != except && accept(e, mode, tried, now)) {
                r -= effectiveWeight(e, now);
                if (r < 0) {
                    return e;
                }
            }
        }
        return null;
    }

    private Endpoint hash(Snapshot s, String key, int mode, Endpoint[] tried, long now) {
        HashRing ring = s.ring;
        int start = ring.firstPoint(HashRing.hash(key));
        for (int j = 0; j < ring.size(); j++) {
            Endpoint e = s.endpoints[ring.owner(start + j)];
            if (accept(e, mode, tried, now)) {
                return e;
            }
        }
        return null;
    }

    /** A try on {@code e} went well: its failure streak ends. */
    public void onSuccess(Endpoint e) {
        if (e.consecutiveFailures.get() != 0) {
            e.consecutiveFailures.set(0);
        }
        if (e.ejections.get() != 0 && !e.ejected(System.nanoTime())) {
            e.ejections.set(0);
        }
    }

    /**
     * A try on {@code e} failed (connect error, reset, timeout, or a 5xx when {@code passive.on_5xx}): enough in a
     * row eject it, unless {@code max_ejected_percent} of the upstream is out already.
     */
    public void onFailure(Endpoint e) {
        PassiveConfig p = config.passive();
        if (p.consecutiveFailures() == 0 || e.consecutiveFailures.incrementAndGet() < p.consecutiveFailures()) {
            return;
        }
        long now = System.nanoTime();
        long until = e.ejectedUntil.get();
        if (until != 0 && now - until < 0) {
            return;
        }
        Endpoint[] eps = snapshot.endpoints;
        int out = 0;
        for (Endpoint x : eps) {
            if (x.ejected(now)) {
                out++;
            }
        }
        int max = p.maxEjectedPercent() == 0 ? 0 : Math.max(1, eps.length * p.maxEjectedPercent() / 100);
        if (out >= max) {
            return;
        }
        int times = e.ejections.incrementAndGet();
        long forNanos = p.ejectionTime(times).toNanos();
        long next = now + forNanos;
        if (e.ejectedUntil.compareAndSet(until, next == 0 ? 1 : next)) {
            e.consecutiveFailures.set(0);
            ejectionsTotal.incrementAndGet();
            LOG.warn("upstream {}: endpoint {} ejected for {}ms after {} consecutive failures", name, e.text(),
                    forNanos / 1_000_000, p.consecutiveFailures());
        } else {
            e.ejections.decrementAndGet();
        }
    }

    /** A request to this upstream began; pair with {@link #requestEnded()}. */
    public void requestStarted() {
        requestsInFlight.incrementAndGet();
    }

    /** A request to this upstream ended. */
    public void requestEnded() {
        requestsInFlight.decrementAndGet();
    }

    /**
     * Takes a retry from the budget: retries in flight stay under {@code budget_percent} of the requests in flight
     * (at least {@value RetryConfig#MIN_RETRIES_IN_FLIGHT}).
     *
     * @return whether a retry may start; if so pair it with {@link #retryEnded()}
     */
    public boolean tryStartRetry() {
        RetryConfig r = config.retry();
        for (;;) {
            int n = retriesInFlight.get();
            int limit = Math.max(RetryConfig.MIN_RETRIES_IN_FLIGHT,
                    (int) ((long) requestsInFlight.get() * r.budgetPercent() / 100));
            if (n >= limit) {
                retriesRefusedByBudget.incrementAndGet();
                return false;
            }
            if (retriesInFlight.compareAndSet(n, n + 1)) {
                retries.incrementAndGet();
                return true;
            }
        }
    }

    /** A retry the budget does not cover started (after a failed connect: nothing reached a backend). */
    public void retryOutsideBudget() {
        retries.incrementAndGet();
    }

    /** A retry ended. */
    public void retryEnded() {
        retriesInFlight.decrementAndGet();
    }

    /** @return retries started since start-up */
    public long retries() {
        return retries.get();
    }

    /** @return retries the budget refused since start-up */
    public long retriesRefusedByBudget() {
        return retriesRefusedByBudget.get();
    }

    /** @return passive ejections since start-up */
    public long ejections() {
        return ejectionsTotal.get();
    }

    /** The upstream left the configuration (a reload): its names are no longer re-resolved. */
    public void close() {
        closed = true;
    }

    /** @return the TLS clients of its {@code https://} servers */
    public java.util.Collection<UpstreamTlsClient> tlsClients() {
        return tlsClients.values();
    }

    /** @return whether {@link #close()} was called */
    public boolean closed() {
        return closed;
    }

    @Override
    public String toString() {
        return name;
    }
}
