package dev.portico.internal.upstream;

import dev.portico.internal.balance.Endpoint;
import dev.portico.config.TimeoutsConfig;
import dev.portico.internal.tls.UpstreamTlsClient;
import dev.portico.internal.upstream.IdleTimer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The idle backend connections of one event loop, per endpoint. Every method runs on that loop: no locks.
 */
public final class UpstreamPool {
    /** The most idle connections kept per endpoint; more are closed when given back. */
    static final int MAX_IDLE_PER_ENDPOINT = 512;
    /** A backend's status line and headers may take this much; more is a malformed response (502). */
    static final int MAX_RESPONSE_HEAD = 64 * 1024;

    /** Told when a borrowed connection is ready, or why none could be had. */
    public interface Callback {
        /**
         * @param connection the connection, borrowed by the listener given to {@link #acquire}
         */
        void acquired(UpstreamConnection connection);

        /**
         * @param cause why no connection could be made (e.g. refused, timed out)
         */
        void failed(Throwable cause);
    }

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private long idleMillis;
    private final long connectMillis;
    /** Connections open, and of them idle here; written on the loop only, read (racily) by the metrics scrape. */
    private int open;
    private int idleCount;
    /** Only endpoints with idle connections have an entry: an empty one would keep a retired endpoint alive. */
    private final Map<Endpoint, ArrayDeque<UpstreamConnection>> idle = new IdentityHashMap<>();
    private boolean closed;
    /** Every loop's pool, this one included: asked to close an idle connection when this loop needs a slot. */
    private List<UpstreamPool> siblings = List.of();
    /** The streams side, for endpoints that speak HTTP/2. */
    private final Http2Parents http2 = new Http2Parents(this);

    /**
     * @param loop the event loop this pool belongs to
     * @param channelClass the socket channel class matching the loop's transport
     * @param timeouts connect and idle timeouts
     */
    public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, TimeoutsConfig timeouts) {
        this.loop = loop;
        this.idleMillis = timeouts.idle().toMillis();
        this.connectMillis = timeouts.connect().toMillis();
        this.bootstrap = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        timeouts.connect().toMillis()));
    }

    /**
     * @param all the pools of every loop of the proxy, this one included
     */
    public void siblings(List<UpstreamPool> all) {
        siblings = List.copyOf(all);
    }

    /** Thrown to a callback when {@code max_connections} is reached and no place in the queue is left. */
    public static final class NoConnectionAvailable extends Exception {
        private static final long serialVersionUID = 1L;

        NoConnectionAvailable(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Lends an idle connection to {@code endpoint}, or opens a new one on this loop. With {@code maxConnections}
     * reached, the request waits (up to {@code maxPending} of them, for at most the connect timeout) for a slot.
     *
     * @param endpoint the backend
     * @param tls how to secure connections to it, or {@code null} for plain HTTP; a new TLS connection is handed
     *     over once its handshake succeeded (an endpoint belongs to one upstream, so it keys its TLS settings too)
     * @param maxConnections the endpoint's connection limit, 0 for none
     * @param maxPending how many requests may wait for a slot
     * @param listener who gets the connection's events while it is borrowed
     * @param callback told when the connection is ready, or failed
     * @return when the request waits for a slot: run it (on this loop) to give up the wait and its place in the
     *     queue, when the requester is gone; otherwise {@code null}
     */
    public Runnable acquire(Endpoint endpoint, UpstreamTlsClient tls, int maxConnections, int maxPending,
                            UpstreamListener listener, Callback callback) {
        return acquire(endpoint, tls, maxConnections, maxPending, null, listener, callback);
    }

    /**
     * As {@link #acquire(Endpoint, UpstreamTlsClient, int, int, UpstreamListener, Callback)}, for a connection that
     * opens with {@code header} when it is not {@code null}: such a connection is always a new one, and is closed
     * when given back instead of being pooled, so it never serves another client.
     *
     * @param endpoint the backend
     * @param tls how to secure connections to it, or {@code null} for plain HTTP
     * @param maxConnections the endpoint's connection limit, 0 for none
     * @param maxPending how many requests may wait for a slot
     * @param header the PROXY protocol header a new connection starts with, or {@code null} for none
     * @param listener who gets the connection's events while it is borrowed
     * @param callback told when the connection is ready, or failed
     * @return as for the other form
     */
    public Runnable acquire(Endpoint endpoint, UpstreamTlsClient tls, int maxConnections, int maxPending,
                            ProxyHeader header, UpstreamListener listener, Callback callback) {
        if (header == null && endpoint.speaksHttp2()) {
            return http2.acquire(endpoint, maxConnections, maxPending, listener, callback);
        }
        if (header == null && lendIdle(endpoint, listener, callback)) {
            return null;
        }
        if (!endpoint.tryOpenConnection(maxConnections)) {
            Waiter w = new Waiter(endpoint, tls, maxConnections, maxPending, header, listener, callback);
            // Connections idle on other loops hold slots this loop cannot use: have them closed, and wait for one.
            int idleElsewhere = endpoint.idleConnections();
            if (endpoint.await(w, maxPending + idleElsewhere)) {
                w.timer = loop.schedule(w::timeout, connectMillis, TimeUnit.MILLISECONDS);
                if (idleElsewhere > 0) {
                    for (UpstreamPool p : siblings) {
                        if (p != this) {
                            p.loop.execute(() -> p.closeOneIdle(endpoint));
                        }
                    }
                }
            } else {
                callback.failed(new NoConnectionAvailable("upstream endpoint " + endpoint.text() + " is at "
                        + maxConnections + " connections"));
                return null;
            }
            return w::cancel;
        }
        open(endpoint, tls, header, listener, callback);
        return null;
    }

    private boolean lendIdle(Endpoint endpoint, UpstreamListener listener, Callback callback) {
        ArrayDeque<UpstreamConnection> q = idle.get(endpoint);
        if (q != null) {
            UpstreamConnection busy = null;
            UpstreamConnection c;
            while ((c = q.pollFirst()) != null) {
                endpoint.idleRemoved();
                idleCount--;
                if (c.inRead()) {
                    // Given back during the read now being decoded (a pipelined request can ask that soon):
                    // the rest of that read could be a response nobody asked for. Lend it after the read.
                    busy = c;
                    continue;
                }
                // A connection with unread bytes holds part of a response nobody asked for: drop it.
                if (c.channel().isActive() && c.undecodedBytes() == 0) {
                    if (busy != null) {
                        q.addFirst(busy);
                        endpoint.idleAdded();
                        idleCount++;
                    }
                    c.borrow(listener);
                    callback.acquired(c);
                    return true;
                }
                c.channel().close();
            }
            if (busy != null) {
                q.addFirst(busy);
                endpoint.idleAdded();
                idleCount++;
            }
            dropIfEmpty(endpoint, q);
        }
        return false;
    }

    /** An endpoint (and its TLS context) replaced by a reload or a DNS change must not live on here. */
    private void dropIfEmpty(Endpoint endpoint, ArrayDeque<UpstreamConnection> q) {
        if (q != null && q.isEmpty()) {
            idle.remove(endpoint);
        }
    }

    /** Opens a connection; the caller holds a connection slot of the endpoint, released when the channel closes. */
    private void open(Endpoint endpoint, UpstreamTlsClient tls, ProxyHeader header, UpstreamListener listener,
                      Callback callback) {
        UpstreamConnection conn = new UpstreamConnection(this, endpoint, header != null);
        Future<?>[] handshake = new Future<?>[1];
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null) {
                    handshake[0] = tls.addTo(ch);
                }
                UpstreamCodec codec = newCodec();
                conn.codec(codec);
                if (header != null) {
                    ProxyHeaderWriter.install(ch, header);
                }
                ch.pipeline().addLast(codec,
                        new IdleTimer(idleMillis),
                        conn);
            }
        }).connect(endpoint.address());
        open++;
        f.channel().closeFuture().addListener(x -> {
            open--;
            endpoint.connectionClosed(conn.slotHeir());
        });
        conn.borrow(listener);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                conn.discard(); // its close must not reach the borrower, who may be on a next try already
                callback.failed(done.cause());
            } else if (handshake[0] == null) {
                conn.connected(System.nanoTime());
                callback.acquired(conn);
            } else {
                conn.connected(System.nanoTime());
                handshake[0].addListener(hs -> {
                    if (hs.isSuccess()) {
                        conn.handshaken(System.nanoTime());
                        callback.acquired(conn);
                    } else {
                        conn.discard();
                        callback.failed(hs.cause());
                    }
                });
            }
        });
    }

    EventLoop loop() {
        return loop;
    }

    long connectMillis() {
        return connectMillis;
    }

    /** @return a new HTTP/1.1 codec for a backend connection */
    static UpstreamCodec newCodec() {
        return new UpstreamCodec(new HttpDecoderConfig().setMaxInitialLineLength(8192)
                .setMaxHeaderSize(MAX_RESPONSE_HEAD).setMaxChunkSize(64 * 1024));
    }

    long idleMillis() {
        return idleMillis;
    }

    /** @return a bootstrap for one new connection of this loop */
    Bootstrap bootstrap() {
        return bootstrap.clone();
    }

    void parentOpened() {
        open++;
    }

    void parentClosed() {
        open--;
    }

    void giveBack(UpstreamConnection conn) {
        Channel ch = conn.channel();
        if (conn.undecodedBytes() > 0 || conn.exclusive()) {
            // Bytes beyond the response: part of another one nobody asked for. Or a PROXY header named the client
            // this connection speaks for: no other client may use it.
            ch.close();
            return;
        }
        ArrayDeque<UpstreamConnection> q = idle.get(conn.endpoint());
        if (closed || !ch.isActive() || q != null && q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        if (q == null) {
            q = new ArrayDeque<>();
            idle.put(conn.endpoint(), q);
        }
        q.addFirst(conn);
        conn.endpoint().idleAdded();
        idleCount++;
        if (conn.endpoint().hasWaiters()) {
            // After this read (the connection may still be decoding it): lend it to a waiter.
            loop.execute(() -> serveWaiters(conn.endpoint()));
        }
        // Keep reading, so a close by the backend (or a stray byte) is seen while the connection waits here.
        ch.config().setAutoRead(true);
    }

    /** A pooled connection's read is over and requests wait for a slot of its endpoint. */
    void readOver(UpstreamConnection conn) {
        ArrayDeque<UpstreamConnection> q = idle.get(conn.endpoint());
        if (q != null && q.contains(conn)) {
            serveWaiters(conn.endpoint());
        }
    }

    void forget(UpstreamConnection conn) {
        ArrayDeque<UpstreamConnection> q = idle.get(conn.endpoint());
        if (q != null && q.remove(conn)) {
            conn.endpoint().idleRemoved();
            idleCount--;
            dropIfEmpty(conn.endpoint(), q);
        }
    }

    /**
     * Requests wait for a slot of {@code endpoint} and this loop has idle connections to it: a waiter of this loop
     * gets one; for a waiter of another loop, one is closed to free its slot.
     */
    private void serveWaiters(Endpoint endpoint) {
        ArrayDeque<UpstreamConnection> q = idle.get(endpoint);
        while (q != null && !q.isEmpty() && endpoint.hasWaiters()) {
            UpstreamConnection c = q.peekFirst();
            if (c.inRead()) {
                return;
            }
            q.pollFirst();
            endpoint.idleRemoved();
            idleCount--;
            if (!c.channel().isActive() || c.undecodedBytes() > 0) {
                c.channel().close();
                continue;
            }
            Runnable w = endpoint.pollWaiter();
            // A waiter for a connection with a PROXY header cannot use a pooled one: it gets the slot, as another
            // loop's waiter does.
            Waiter mine = w instanceof Waiter x && x.pool() == this && x.header == null ? x : null;
            if (w != null && mine == null) {
                // The slot goes to that waiter through the close alone: waking it here too would wake a second
                // one, and the loser of their race would go to the back of the queue.
                c.slotHeir(w);
                c.channel().close();
            } else if (mine == null || !mine.take(c)) {
                q.addFirst(c); // nobody waits, or the waiter gave up meanwhile: the connection stays here
                endpoint.idleAdded();
                idleCount++;
                if (w == null) {
                    break;
                }
            }
        }
        dropIfEmpty(endpoint, q);
    }

    /** Another loop needs a slot of {@code endpoint}: close this loop's longest-idle connection to it, if any. */
    private void closeOneIdle(Endpoint endpoint) {
        ArrayDeque<UpstreamConnection> q = idle.get(endpoint);
        UpstreamConnection c = q == null ? null : q.pollLast();
        if (c != null) {
            endpoint.idleRemoved();
            idleCount--;
            dropIfEmpty(endpoint, q);
            c.channel().close();
        }
    }

    /** Closes every idle connection and refuses to keep more; runs on the pool's loop. */
    public void close() {
        if (!loop.inEventLoop()) {
            loop.execute(this::close);
            return;
        }
        closed = true;
        http2.drainAll();
        for (ArrayDeque<UpstreamConnection> q : List.copyOf(idle.values())) {
            for (UpstreamConnection c : q.toArray(new UpstreamConnection[0])) {
                c.endpoint().idleRemoved();
                c.channel().close();
            }
        }
        idle.clear();
        idleCount = 0;
    }

    /**
     * Applies new timeouts to the connections opened from now on (a reload); runs on the pool's loop.
     *
     * @param timeouts connect and idle timeouts
     */
    public void timeouts(TimeoutsConfig timeouts) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> timeouts(timeouts));
            return;
        }
        idleMillis = timeouts.idle().toMillis();
        bootstrap.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                timeouts.connect().toMillis()));
    }

    /** @return open backend connections of this loop; read from any thread, possibly a moment stale */
    public int openConnections() {
        return open;
    }

    /** @return idle pooled connections of this loop; read from any thread, possibly a moment stale */
    public int idleConnections() {
        return idleCount;
    }

    /** @return how many endpoints have idle connections here; on the loop only */
    int idleEndpoints() {
        return idle.size();
    }

    /** A request waiting for a connection slot of an endpoint at {@code max_connections}. */
    private final class Waiter implements Runnable {
        private final Endpoint endpoint;
        private final UpstreamTlsClient tls;
        private final int maxConnections;
        private final int maxPending;
        private final ProxyHeader header;
        private final UpstreamListener listener;
        private final Callback callback;
        ScheduledFuture<?> timer;
        private boolean done;

        Waiter(Endpoint endpoint, UpstreamTlsClient tls, int maxConnections, int maxPending, ProxyHeader header,
               UpstreamListener listener, Callback callback) {
            this.endpoint = endpoint;
            this.tls = tls;
            this.maxConnections = maxConnections;
            this.maxPending = maxPending;
            this.header = header;
            this.listener = listener;
            this.callback = callback;
        }

        UpstreamPool pool() {
            return UpstreamPool.this;
        }

        /** A slot may be free: try again on this waiter's loop. Called from any thread. */
        @Override
        public void run() {
            loop.execute(() -> {
                if (finish()) {
                    acquire(endpoint, tls, maxConnections, maxPending, header, listener, callback);
                } else {
                    endpoint.wakeOne(); // gave up or timed out as it was woken: the slot is the next one's
                }
            });
        }

        /**
         * Another request of this loop gave back a connection: it is this waiter's now. Runs on the loop.
         *
         * @return false if the waiter is over (it gave up or timed out): the connection is not taken
         */
        boolean take(UpstreamConnection conn) {
            if (!finish()) {
                return false;
            }
            conn.borrow(listener);
            callback.acquired(conn);
            return true;
        }

        /** The requester is gone: leave the queue, so its place and the next free connection go to another. */
        void cancel() {
            if (finish()) {
                endpoint.cancelWait(this);
            }
        }

        void timeout() {
            if (finish()) {
                endpoint.cancelWait(this);
                callback.failed(new NoConnectionAvailable("no connection to " + endpoint.text() + " within "
                        + connectMillis + "ms (max_connections " + maxConnections + ")"));
            }
        }

        private boolean finish() {
            if (done) {
                return false;
            }
            done = true;
            if (timer != null) {
                timer.cancel(false);
            }
            return true;
        }
    }
}
