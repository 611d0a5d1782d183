package dev.portico.internal.upstream;

import dev.portico.config.UpstreamConfig;
import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.tls.UpstreamTlsClient;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;

/**
 * The HTTP/2 connections of one event loop's {@link UpstreamPool}, per endpoint: {@code connections_per_endpoint}
 * of them are kept, and more are opened when their streams are all taken (each one a connection slot of
 * {@code max_connections}); when none can be opened, a try waits here (up to {@code max_pending}, for at most the
 * connect timeout) for a stream. {@code h2c} connects by prior knowledge, {@code h2} and {@code auto} over TLS with
 * ALPN: when an {@code auto} backend picks HTTP/1.1, the connection becomes an ordinary pooled HTTP/1.1 one and the
 * endpoint is spoken to over HTTP/1.1 from then on. Everything runs on the pool's loop.
 */
final class Http2Parents {
    private final UpstreamPool pool;
    private final Map<Endpoint, List<Http2Parent>> parents = new IdentityHashMap<>();
    private final Map<Endpoint, ArrayDeque<Waiter>> waiters = new IdentityHashMap<>();

    Http2Parents(UpstreamPool pool) {
        this.pool = pool;
    }

    UpstreamPool pool() {
        return pool;
    }

    /** As {@link UpstreamPool#acquire}, for a stream on an HTTP/2 connection to {@code endpoint}. */
    Runnable acquire(Endpoint endpoint, int maxConnections, int maxPending, UpstreamListener listener,
                     UpstreamPool.Callback callback) {
        Http2Parent p = parentFor(endpoint, maxConnections);
        if (p != null) {
            p.openStream(listener, callback, maxConnections);
            return null;
        }
        ArrayDeque<Waiter> q = waiters.computeIfAbsent(endpoint, e -> new ArrayDeque<>());
        if (q.size() >= maxPending) {
            callback.failed(new UpstreamPool.NoConnectionAvailable("upstream endpoint " + endpoint.text()
                    + " has no free HTTP/2 stream (max_connections " + maxConnections + ")"));
            return null;
        }
        Waiter w = new Waiter(endpoint, maxConnections, listener, callback);
        q.add(w);
        w.timer = pool.loop().schedule(w::timeout, pool.connectMillis(), TimeUnit.MILLISECONDS);
        return w::cancel;
    }

    /** The least busy connection with a free stream, or a new one when fewer than wanted are open (or all full). */
    private Http2Parent parentFor(Endpoint endpoint, int maxConnections) {
        List<Http2Parent> list = parents.get(endpoint);
        Http2Parent best = null;
        int usable = 0;
        if (list != null) {
            for (Http2Parent p : list) {
                if (p.state() == Http2Parent.State.CONNECTING || p.state() == Http2Parent.State.READY) {
                    usable++;
                }
                if (p.hasRoom() && (best == null || p.streams() < best.streams())) {
                    best = p;
                }
            }
        }
        if ((best == null || usable < endpoint.http2().connectionsPerEndpoint())
                && endpoint.tryOpenConnection(maxConnections)) {
            return connect(endpoint);
        }
        return best;
    }

    /** Opens a connection; the caller holds one of the endpoint's connection slots, freed when it closes. */
    private Http2Parent connect(Endpoint endpoint) {
        var h2 = endpoint.http2();
        Http2Parent p = new Http2Parent(this, endpoint, h2.pingInterval().toMillis(), pool.connectMillis(),
                pool.idleMillis());
        parents.computeIfAbsent(endpoint, e -> new ArrayList<>(2)).add(p);
        UpstreamTlsClient tls = endpoint.tls();
        Future<?>[] handshake = new Future<?>[1];
        ChannelFuture f = pool.bootstrap().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null) {
                    handshake[0] = tls.addTo(ch);
                    ch.pipeline().addLast(Http2Pipeline.PARENT, p);
                } else {
                    Http2Pipeline.addLast(ch, p);
                }
            }
        }).connect(endpoint.address());
        Channel ch = f.channel();
        pool.parentOpened();
        ch.closeFuture().addListener(x -> {
            pool.parentClosed();
            endpoint.connectionClosed(null);
        });
        f.addListener(done -> {
            if (!done.isSuccess()) {
                p.fail(done.cause());
                return;
            }
            p.connected(System.nanoTime());
            if (handshake[0] == null) {
                p.start(Http2Pipeline.codec(ch));
                return;
            }
            handshake[0].addListener(hs -> {
                if (!hs.isSuccess()) {
                    p.fail(hs.cause());
                    ch.close();
                } else {
                    p.handshaken(System.nanoTime());
                    negotiated(p, ch);
                }
            });
        });
        return p;
    }

    /** The TLS handshake is done: HTTP/2 if the backend chose {@code h2}, else HTTP/1.1 for {@code auto}. */
    private void negotiated(Http2Parent p, Channel ch) {
        Endpoint e = p.endpoint();
        boolean h2 = "h2".equals(ch.pipeline().get(SslHandler.class).applicationProtocol());
        if (e.protocol() == UpstreamConfig.Protocol.AUTO) {
            e.alpnChosen(h2);
        }
        if (h2) {
            Http2Pipeline.addBefore(ch, p);
            p.start(Http2Pipeline.codec(ch));
        } else if (e.protocol() == UpstreamConfig.Protocol.AUTO) {
            remove(p);
            p.becomeHttp1(ch);
        } else {
            p.fail(new SSLHandshakeException("upstream " + e.text() + " did not agree to h2 in ALPN"));
            ch.close();
        }
    }

    /**
     * An {@code auto} connection turned out HTTP/1.1: the first waiting try takes it, the others ask again (and get
     * HTTP/1.1 connections, since the endpoint now speaks it).
     */
    void handOver(Channel ch, Endpoint endpoint, long connected, long handshaken, List<UpstreamListener> listeners,
                  List<UpstreamPool.Callback> callbacks, int maxConnections) {
        for (int i = 0; i < listeners.size(); i++) {
            if (i == 0) {
                adoptHttp1(ch, endpoint, connected, handshaken, listeners.get(0), callbacks.get(0));
            } else {
                pool.acquire(endpoint, endpoint.tls(), maxConnections, Integer.MAX_VALUE, listeners.get(i),
                        callbacks.get(i));
            }
        }
    }

    /**
     * An {@code auto} backend chose HTTP/1.1 on a new TLS connection: it becomes an ordinary connection of this
     * pool, lent to {@code listener} at once. Its slot and open count stay with the close listener it has.
     */
    private void adoptHttp1(Channel ch, Endpoint endpoint, long connected, long handshaken, UpstreamListener listener,
                            UpstreamPool.Callback callback) {
        UpstreamConnection conn = new UpstreamConnection(pool, endpoint, false);
        UpstreamCodec codec = UpstreamPool.newCodec();
        conn.codec(codec);
        ch.pipeline().addLast(codec, new IdleTimer(pool.idleMillis()), conn);
        conn.connected(connected);
        conn.handshaken(handshaken);
        conn.borrow(listener);
        callback.acquired(conn);
    }

    private void remove(Http2Parent p) {
        List<Http2Parent> list = parents.get(p.endpoint());
        if (list != null && list.remove(p) && list.isEmpty()) {
            parents.remove(p.endpoint());
        }
    }

    /** A stream ended or the connection became ready: waiting tries of its endpoint may go now. */
    void streamFreed(Http2Parent p) {
        serve(p.endpoint());
    }

    /** The connection takes no new streams (GOAWAY): waiting tries may open another. */
    void drained(Http2Parent p) {
        serve(p.endpoint());
    }

    /** The connection closed: its slot is free. */
    void closed(Http2Parent p) {
        remove(p);
        serve(p.endpoint());
    }

    /** A stream asked for before the connection's SETTINGS did not fit under the backend's limit: ask again. */
    void requeue(Endpoint endpoint, UpstreamListener listener, UpstreamPool.Callback callback, int maxConnections) {
        acquire(endpoint, maxConnections, Integer.MAX_VALUE, listener, callback);
    }

    private void serve(Endpoint endpoint) {
        ArrayDeque<Waiter> q = waiters.get(endpoint);
        while (q != null && !q.isEmpty()) {
            Waiter w = q.peek();
            Http2Parent p = parentFor(endpoint, w.maxConnections);
            if (p == null) {
                return;
            }
            q.poll();
            w.done();
            p.openStream(w.listener, w.callback, w.maxConnections);
        }
        if (q != null && q.isEmpty()) {
            waiters.remove(endpoint);
        }
    }

    /** Stops every connection taking streams; each closes when its last stream ends. */
    void drainAll() {
        for (List<Http2Parent> list : List.copyOf(parents.values())) {
            for (Http2Parent p : List.copyOf(list)) {
                p.drain();
            }
        }
    }

    /** A try waiting for a stream of an endpoint whose connections are all full and at {@code max_connections}. */
    private final class Waiter {
        final Endpoint endpoint;
        final int maxConnections;
        final UpstreamListener listener;
        final UpstreamPool.Callback callback;
        ScheduledFuture<?> timer;

        Waiter(Endpoint endpoint, int maxConnections, UpstreamListener listener, UpstreamPool.Callback callback) {
            this.endpoint = endpoint;
            this.maxConnections = maxConnections;
            this.listener = listener;
            this.callback = callback;
        }

        void done() {
            if (timer != null) {
                timer.cancel(false);
            }
        }

        void cancel() {
            ArrayDeque<Waiter> q = waiters.get(endpoint);
            if (q != null && q.remove(this)) {
                done();
            }
        }

        void timeout() {
            ArrayDeque<Waiter> q = waiters.get(endpoint);
            if (q != null && q.remove(this)) {
                callback.failed(new UpstreamPool.NoConnectionAvailable("no HTTP/2 stream to " + endpoint.text()
                        + " within " + pool.connectMillis() + "ms (max_connections " + maxConnections + ")"));
            }
        }
    }
}
