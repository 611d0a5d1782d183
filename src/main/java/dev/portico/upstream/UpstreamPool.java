package dev.portico.upstream;

import dev.portico.config.TimeoutsConfig;
import dev.portico.proxy.IdleTimer;
import dev.portico.tls.UpstreamTlsClient;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The idle backend connections of one event loop, per endpoint (and, for TLS backends, per TLS client: a
 * connection is only lent to exchanges that would have made it with the same name, trust and client certificate).
 * Every method runs on that loop: no locks.
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
    private final long idleMillis;
    /** Keyed by the endpoint for plain connections, by a {@link TlsKey} for TLS ones. */
    private final Map<Object, ArrayDeque<UpstreamConnection>> idle = new HashMap<>();
    private boolean closed;

    /**
     * @param loop the event loop this pool belongs to
     * @param channelClass the socket channel class matching the loop's transport
     * @param timeouts connect and idle timeouts
     */
    public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, TimeoutsConfig timeouts) {
        this.loop = loop;
        this.idleMillis = timeouts.idle().toMillis();
        this.bootstrap = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        timeouts.connect().toMillis()));
    }

    /**
     * Lends an idle connection to {@code endpoint}, or opens a new one on this loop.
     *
     * @param endpoint the backend
     * @param listener who gets the connection's events while it is borrowed
     * @param callback told when the connection is ready, or failed
     */
    public void acquire(InetSocketAddress endpoint, UpstreamListener listener, Callback callback) {
        acquire(endpoint, null, listener, callback);
    }

    /**
     * Lends an idle connection to {@code endpoint} made with the same TLS client, or opens a new one on this loop;
     * a new TLS connection is handed over once its handshake succeeded.
     *
     * @param endpoint the backend
     * @param tls how to secure the connection, or {@code null} for plain HTTP
     * @param listener who gets the connection's events while it is borrowed
     * @param callback told when the connection is ready, or failed (a failed TLS handshake included)
     */
    public void acquire(InetSocketAddress endpoint, UpstreamTlsClient tls, UpstreamListener listener,
                        Callback callback) {
        Object key = tls == null ? endpoint : new TlsKey(endpoint, tls);
        ArrayDeque<UpstreamConnection> q = idle.get(key);
        if (q != null) {
            UpstreamConnection busy = null;
            UpstreamConnection c;
            while ((c = q.pollFirst()) != null) {
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
                    }
                    c.borrow(listener);
                    callback.acquired(c);
                    return;
                }
                c.channel().close();
            }
            if (busy != null) {
                q.addFirst(busy);
            }
        }
        UpstreamConnection conn = new UpstreamConnection(this, endpoint, key);
        Future<?>[] handshake = new Future<?>[1];
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null) {
                    handshake[0] = tls.addTo(ch);
                }
                UpstreamCodec codec = new UpstreamCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(8192)
                        .setMaxHeaderSize(MAX_RESPONSE_HEAD)
                        .setMaxChunkSize(64 * 1024));
                conn.codec(codec);
                ch.pipeline().addLast(codec,
                        new IdleTimer(idleMillis),
                        conn);
            }
        }).connect(endpoint);
        conn.borrow(listener);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                callback.failed(done.cause());
            } else if (handshake[0] == null) {
                callback.acquired(conn);
            } else {
                handshake[0].addListener(hs -> {
                    if (hs.isSuccess()) {
                        callback.acquired(conn);
                    } else {
                        callback.failed(hs.cause());
                    }
                });
            }
        });
    }

    void giveBack(UpstreamConnection conn) {
        Channel ch = conn.channel();
        if (conn.undecodedBytes() > 0) {
            ch.close(); // bytes beyond the response: part of another one nobody asked for
            return;
        }
        ArrayDeque<UpstreamConnection> q = idle.computeIfAbsent(conn.poolKey(), k -> new ArrayDeque<>());
        if (closed || !ch.isActive() || q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        q.addFirst(conn);
        // Keep reading, so a close by the backend (or a stray byte) is seen while the connection waits here.
        ch.config().setAutoRead(true);
    }

    void forget(UpstreamConnection conn) {
        ArrayDeque<UpstreamConnection> q = idle.get(conn.poolKey());
        if (q != null) {
            q.remove(conn);
        }
    }

    /** Closes every idle connection and refuses to keep more; runs on the pool's loop. */
    public void close() {
        if (!loop.inEventLoop()) {
            loop.execute(this::close);
            return;
        }
        closed = true;
        for (ArrayDeque<UpstreamConnection> q : idle.values()) {
            for (UpstreamConnection c : q.toArray(new UpstreamConnection[0])) {
                c.channel().close();
            }
            q.clear();
        }
    }

    /** The pool key of a TLS connection: the same endpoint through another TLS client is another pool. */
    private record TlsKey(InetSocketAddress endpoint, UpstreamTlsClient tls) {
    }
}
