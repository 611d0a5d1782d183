package dev.portico.internal.balance;

import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamHttp2Config;
import dev.portico.internal.tls.UpstreamTlsClient;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One address of one server of an upstream, and its health. Shared by every event loop: counters are atomics, the
 * active health verdict has a single writer (the health checker's loop), and nothing takes a lock.
 */
public final class Endpoint {
    private final ServerConfig server;
    private final InetSocketAddress address;
    private final String text;
    private final int weight;
    private final UpstreamTlsClient tls;
    private final UpstreamConfig.Protocol protocol;
    private final UpstreamHttp2Config http2;
    /** For {@code protocol: auto}: what the backend chose in ALPN, once known (null before). */
    private volatile Boolean choseH2;

    /** Requests in flight to this endpoint, over every loop (least_request). */
    final AtomicInteger inFlight = new AtomicInteger();
    /** Open connections, over every loop (max_connections). */
    final AtomicInteger connections = new AtomicInteger();
    /** Consecutive failures seen by live traffic. */
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Ejections in a row without a success between them. */
    final AtomicInteger ejections = new AtomicInteger();
    /** Until when (System.nanoTime) passive ejection keeps this endpoint out; 0 when it never was. */
    final AtomicLong ejectedUntil = new AtomicLong();
    /** Connections idle in the pools of every loop. */
    private final AtomicInteger idle = new AtomicInteger();
    /** Requests waiting for a connection slot (max_connections). */
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waiting = new AtomicInteger();
    /** The active health check's verdict; written by the checker only. */
    private volatile boolean healthy = true;
    /** When the endpoint last came back from the active check (System.nanoTime), 0 if never. */
    private volatile long recoveredAt;
    /** Why the endpoint last failed, for the dashboard; null if it never did. */
    private volatile Failure lastFailure;

    /**
     * A failure of an endpoint, as the dashboard shows it.
     *
     * @param reason what went wrong
     * @param atMillis when, in milliseconds since the epoch
     */
    public record Failure(String reason, long atMillis) {
    }

    /**
     * An endpoint of an {@code http://} server.
     *
     * @param server the server this address belongs to
     * @param address the resolved address
     */
    public Endpoint(ServerConfig server, InetSocketAddress address) {
        this(server, address, null);
    }

    /**
     * @param server the server this address belongs to
     * @param address the resolved address
     * @param tls how to secure connections to an {@code https://} server, {@code null} for {@code http://}
     */
    public Endpoint(ServerConfig server, InetSocketAddress address, UpstreamTlsClient tls) {
        this(server, address, tls, UpstreamConfig.Protocol.HTTP1, UpstreamHttp2Config.DEFAULTS);
    }

    /**
     * @param server the server this address belongs to
     * @param address the resolved address
     * @param tls how to secure connections to an {@code https://} server, {@code null} for {@code http://}
     * @param protocol what the server speaks
     * @param http2 how streams are multiplexed over HTTP/2
     */
    public Endpoint(ServerConfig server, InetSocketAddress address, UpstreamTlsClient tls,
                    UpstreamConfig.Protocol protocol, UpstreamHttp2Config http2) {
        this.protocol = protocol;
        this.http2 = http2;
        this.server = server;
        this.tls = tls;
        this.address = address;
        this.weight = server.weight();
        this.text = address.getAddress().getHostAddress().indexOf(':') >= 0
                ? "[" + address.getAddress().getHostAddress() + "]:" + address.getPort()
                : address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    /** @return what the server speaks */
    public UpstreamConfig.Protocol protocol() {
        return protocol;
    }

    /** @return the HTTP/2 stream and connection settings */
    public UpstreamHttp2Config http2() {
        return http2;
    }

    /**
     * @return whether new connections speak HTTP/2: {@code h2c} and {@code h2} always, {@code auto} unless the
     *     backend chose HTTP/1.1 in ALPN before
     */
    public boolean speaksHttp2() {
        return protocol == UpstreamConfig.Protocol.H2C || protocol == UpstreamConfig.Protocol.H2
                || protocol == UpstreamConfig.Protocol.AUTO && !Boolean.FALSE.equals(choseH2);
    }

    /** @param h2 for {@code protocol: auto}: whether the backend chose h2 in ALPN */
    public void alpnChosen(boolean h2) {
        choseH2 = h2;
    }

    /** @return the server this address belongs to */
    public ServerConfig server() {
        return server;
    }

    /** @return how connections are secured, or {@code null} for plain HTTP */
    public UpstreamTlsClient tls() {
        return tls;
    }

    /** @return the address to connect to */
    public InetSocketAddress address() {
        return address;
    }

    /** @return {@code ip:port}, for logs */
    public String text() {
        return text;
    }

    /** @return the configured weight */
    public int weight() {
        return weight;
    }

    /** @return whether the active check (if any) passes */
    public boolean healthy() {
        return healthy;
    }

    /** @return whether passive ejection keeps this endpoint out at {@code now} */
    public boolean ejected(long now) {
        long until = ejectedUntil.get();
        return until != 0 && now - until < 0;
    }

    /** @return whether the endpoint may take traffic at {@code now} */
    public boolean available(long now) {
        return healthy && !ejected(now);
    }

    /** @return requests in flight to this endpoint */
    public int inFlight() {
        return inFlight.get();
    }

    /** A request's try started on this endpoint; pair with {@link #tryEnded()}. */
    public void tryStarted() {
        inFlight.incrementAndGet();
    }

    /** A request's try on this endpoint ended. */
    public void tryEnded() {
        inFlight.decrementAndGet();
    }

    /** A connection to this endpoint went into a pool's idle set. */
    public void idleAdded() {
        idle.incrementAndGet();
    }

    /** A connection to this endpoint left a pool's idle set. */
    public void idleRemoved() {
        idle.decrementAndGet();
    }

    /** @return connections to this endpoint idle in the pools of every loop */
    public int idleConnections() {
        return idle.get();
    }

    /** @return open connections to this endpoint */
    public int connections() {
        return connections.get();
    }

    /** @return until when (System.nanoTime) passive ejection keeps this endpoint out; 0 if it never did */
    public long ejectedUntil() {
        return ejectedUntil.get();
    }

    /** @param reason why a try or a health check failed, kept for the dashboard */
    public void failed(String reason) {
        lastFailure = new Failure(reason, System.currentTimeMillis());
    }

    /** @return the last failure seen, or {@code null} */
    public Failure lastFailure() {
        return lastFailure;
    }

    void healthy(boolean value, long now) {
        if (value && !healthy) {
            recoveredAt = now;
        }
        healthy = value;
    }

    /** @return when the endpoint last came back into service, 0 if it never left */
    long rampStart() {
        long until = ejectedUntil.get();
        long r = recoveredAt;
        if (until == 0) {
            return r;
        }
        return r == 0 || until - r > 0 ? until : r;
    }

    /**
     * Takes a connection slot if {@code max} allows one (0 is unlimited).
     *
     * @param max the per-endpoint connection limit
     * @return whether the slot was taken; release it with {@link #connectionClosed()}
     */
    public boolean tryOpenConnection(int max) {
        if (max <= 0) {
            connections.incrementAndGet();
            return true;
        }
        for (;;) {
            int n = connections.get();
            if (n >= max) {
                return false;
            }
            if (connections.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** A connection closed (or failed to open): its slot is free; a waiter, if any, is told on its own loop. */
    public void connectionClosed() {
        connectionClosed(null);
    }

    /**
     * A connection closed: its slot is free, for {@code heir} if given (a waiter already taken from the queue, which
     * alone is told), else for the longest-waiting request.
     *
     * @param heir the waiter the connection was closed for, or {@code null}
     */
    public void connectionClosed(Runnable heir) {
        connections.decrementAndGet();
        if (heir != null) {
            heir.run();
        } else {
            wakeOne();
        }
    }

    /**
     * Queues a request for a connection slot, if fewer than {@code maxPending} wait.
     *
     * @param waiter run (on any thread; it must hop to its own loop) when a slot may be free
     * @param maxPending the queue limit
     * @return whether it was queued
     */
    public boolean await(Runnable waiter, int maxPending) {
        for (;;) {
            int n = waiting.get();
            if (n >= maxPending) {
                return false;
            }
            if (waiting.compareAndSet(n, n + 1)) {
                waiters.add(waiter);
                return true;
            }
        }
    }

    /** @return how many requests wait for a connection slot */
    public int waiting() {
        return waiting.get();
    }

    /** @return whether requests wait for a connection slot */
    public boolean hasWaiters() {
        return waiting.get() > 0;
    }

    /** Tells one waiter that a slot may be free. */
    public void wakeOne() {
        Runnable w = pollWaiter();
        if (w != null) {
            w.run();
        }
    }

    /** @return the longest-waiting waiter, removed from the queue, or {@code null} */
    public Runnable pollWaiter() {
        Runnable w = waiters.poll();
        if (w != null) {
            waiting.decrementAndGet();
        }
        return w;
    }

    /**
     * Removes a waiter that gave up.
     *
     * @param waiter the waiter given to {@link #await}
     */
    public void cancelWait(Runnable waiter) {
        if (waiters.remove(waiter)) {
            waiting.decrementAndGet();
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
