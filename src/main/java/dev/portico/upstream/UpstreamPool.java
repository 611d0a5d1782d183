package dev.portico.upstream;

import dev.portico.config.TimeoutsConfig;
import dev.portico.proxy.IdleTimer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

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
    /** Connections open, and of them idle here; written on the loop only, read (racily) by the metrics scrape. */
    private int open;
    private int idleCount;
    private final Map<InetSocketAddress, ArrayDeque<UpstreamConnection>> idle = new HashMap<>();
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
        ArrayDeque<UpstreamConnection> q = idle.get(endpoint);
        if (q != null) {
            UpstreamConnection busy = null;
            UpstreamConnection c;
            while ((c = q.pollFirst()) != null) {
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
                        idleCount++;
                    }
                    c.borrow(listener);
                    callback.acquired(c);
                    return;
                }
                c.channel().close();
            }
            if (busy != null) {
                q.addFirst(busy);
                idleCount++;
            }
        }
        UpstreamConnection conn = new UpstreamConnection(this, endpoint);
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
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
        open++;
        f.channel().closeFuture().addListener(closed -> open--);
        conn.borrow(listener);
        f.addListener(done -> {
            if (done.isSuccess()) {
                callback.acquired(conn);
            } else {
                callback.failed(done.cause());
            }
        });
    }

    void giveBack(UpstreamConnection conn) {
        Channel ch = conn.channel();
        if (conn.undecodedBytes() > 0) {
            ch.close(); // bytes beyond the response: part of another one nobody asked for
            return;
        }
        ArrayDeque<UpstreamConnection> q = idle.computeIfAbsent(conn.endpoint(), k -> new ArrayDeque<>());
        if (closed || !ch.isActive() || q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        q.addFirst(conn);
        idleCount++;
        // Keep reading, so a close by the backend (or a stray byte) is seen while the connection waits here.
        ch.config().setAutoRead(true);
    }

    void forget(UpstreamConnection conn) {
        ArrayDeque<UpstreamConnection> q = idle.get(conn.endpoint());
        if (q != null && q.remove(conn)) {
            idleCount--;
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
}
