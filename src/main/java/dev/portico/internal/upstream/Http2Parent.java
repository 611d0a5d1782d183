package dev.portico.internal.upstream;

import dev.portico.internal.balance.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 connection to a backend, and the last stage of its pipeline (after Netty's frame codec and multiplex
 * handler). Each try gets a stream of its own: a child channel whose pipeline turns frames into the
 * {@code HttpObject}s exchanges speak, ending in an {@link UpstreamConnection}. Streams are capped by
 * {@code max_streams_per_connection} and the backend's {@code SETTINGS_MAX_CONCURRENT_STREAMS}; until the backend's
 * first SETTINGS arrive, requests wait here (they are the connection's first streams). A GOAWAY drains the
 * connection: no new streams, and it closes when its last stream ends; the streams above its last stream id end
 * with {@link StreamRefused}. A PING goes out when nothing was read for {@code ping_interval}; no answer within the
 * connect timeout closes the connection. Everything runs on the pool's event loop.
 */
final class Http2Parent extends ChannelInboundHandlerAdapter implements Runnable {
    /** Where the connection stands. */
    enum State { CONNECTING, READY, DRAINING, CLOSED }

    /** A stream asked for before the connection was ready. */
    private record Pending(UpstreamListener listener, UpstreamPool.Callback callback, int maxConnections) {
    }

    private final Http2Parents owner;
    private final Endpoint endpoint;
    private final int maxStreams;
    private final long pingNanos;
    private final long pingTimeoutNanos;
    private final long idleNanos;
    private Channel channel;
    private Http2FrameCodec codec;
    private State state = State.CONNECTING;
    /** Streams open or being opened (pending included). */
    private int streams;
    private int opened;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>(4);
    private final List<UpstreamConnection> live = new ArrayList<>();
    private long connectedNanos;
    private long handshakeNanos;
    private long lastRead = System.nanoTime();
    private long idleSince = System.nanoTime();
    private long pingSent;
    private ScheduledFuture<?> timer;
    private ScheduledFuture<?> settingsTimer;
    /** Whether the backend's SETTINGS enabled extended CONNECT (RFC 8441 section 3): WebSocket streams may go. */
    private boolean connectProtocol;

    Http2Parent(Http2Parents owner, Endpoint endpoint, long pingMillis, long connectMillis, long idleMillis) {
        this.owner = owner;
        this.endpoint = endpoint;
        this.maxStreams = endpoint.http2().maxStreamsPerConnection();
        this.pingNanos = TimeUnit.MILLISECONDS.toNanos(pingMillis);
        this.pingTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(connectMillis);
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
    }

    Endpoint endpoint() {
        return endpoint;
    }

    Channel channel() {
        return channel;
    }

    State state() {
        return state;
    }

    int streams() {
        return streams;
    }

    long connectedNanos() {
        return connectedNanos;
    }

    long handshakeNanos() {
        return handshakeNanos;
    }

    void connected(long nanos) {
        connectedNanos = nanos;
    }

    void handshaken(long nanos) {
        handshakeNanos = nanos;
    }

    /** @return whether the backend's SETTINGS had {@code SETTINGS_ENABLE_CONNECT_PROTOCOL = 1} */
    boolean connectProtocol() {
        return connectProtocol;
    }

    /** @return the most streams open at once: ours, lowered by the backend's SETTINGS once they are known */
    int cap() {
        if (codec == null || state == State.CONNECTING) {
            return maxStreams;
        }
        return Math.min(maxStreams, codec.connection().local().maxActiveStreams());
    }

    /** @return whether a new stream may go on this connection now or once it is ready */
    boolean hasRoom() {
        return (state == State.CONNECTING || state == State.READY) && streams < cap();
    }

    /**
     * Opens a stream for one try (now, or once the connection is ready); the callback gets it, or the failure.
     *
     * @param listener the try
     * @param callback told when the stream can take the request
     * @param maxConnections the endpoint's {@code max_connections}, should the try have to look elsewhere
     */
    void openStream(UpstreamListener listener, UpstreamPool.Callback callback, int maxConnections) {
        streams++;
        if (state == State.CONNECTING) {
            pending.add(new Pending(listener, callback, maxConnections));
            return;
        }
        open(listener, callback);
    }

    private void open(UpstreamListener listener, UpstreamPool.Callback callback) {
        UpstreamConnection conn = new UpstreamConnection(owner.pool(), endpoint, false);
        conn.stream(this, opened++ > 0);
        long idleMillis = TimeUnit.NANOSECONDS.toMillis(idleNanos);
        new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new Http2HeadCoalescer(),
                        new IdleTimer(idleMillis), conn);
            }
        }).open().addListener(f -> {
            if (!f.isSuccess()) {
                streamEnded(null);
                callback.failed(f.cause());
                return;
            }
            Http2StreamChannel ch = (Http2StreamChannel) f.getNow();
            live.add(conn);
            ch.closeFuture().addListener(x -> streamEnded(conn));
            conn.borrow(listener);
            callback.acquired(conn);
        });
    }

    private void streamEnded(UpstreamConnection conn) {
        streams--;
        if (conn != null) {
            live.remove(conn);
        }
        if (streams == 0) {
            idleSince = System.nanoTime();
            if (state == State.DRAINING) {
                channel.close();
                return;
            }
        }
        // After the event that closed the stream is over: Netty counts it as active until then.
        channel.eventLoop().execute(() -> owner.streamFreed(this));
    }

    /** Stops taking streams; the connection closes when its last one ends (a reload, a shutdown). */
    void drain() {
        if (state == State.READY || state == State.CONNECTING) {
            state = State.DRAINING;
            failPending(new StreamRefused(endpoint));
            if (streams == 0) {
                channel.close();
            }
        }
    }

    /** The connection could not be made (or the backend would not speak HTTP/2): the waiting tries learn why. */
    void fail(Throwable cause) {
        if (state == State.CONNECTING) {
            state = State.CLOSED;
            failPending(cause);
            owner.closed(this);
        }
    }

    /**
     * An {@code auto} backend chose HTTP/1.1 in ALPN: this connection leaves HTTP/2 before it began, and the tries
     * waiting for it are handed to the pool's HTTP/1.1 side.
     *
     * @param ch the connection, TLS done
     */
    void becomeHttp1(Channel ch) {
        state = State.CLOSED;
        ch.pipeline().remove(this);
        List<UpstreamListener> listeners = new ArrayList<>();
        List<UpstreamPool.Callback> callbacks = new ArrayList<>();
        int maxConnections = pending.isEmpty() ? 0 : pending.peek().maxConnections();
        Pending p;
        while ((p = pending.poll()) != null) {
            streams--;
            listeners.add(p.listener());
            callbacks.add(p.callback());
        }
        if (listeners.isEmpty()) {
            ch.close();
            return;
        }
        owner.handOver(ch, endpoint, connectedNanos, handshakeNanos, listeners, callbacks, maxConnections);
    }

    private void failPending(Throwable cause) {
        Pending p;
        while ((p = pending.poll()) != null) {
            streams--;
            p.callback().failed(cause);
        }
    }

    /**
     * Called once the connection is established (and its TLS handshake done), with Netty's codec in the pipeline.
     *
     * @param frameCodec the codec
     */
    void start(Http2FrameCodec frameCodec) {
        codec = frameCodec;
        if (state == State.CLOSED) {
            return;
        }
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(Http2Pipeline.CONNECTION_WINDOW - 65_535));
        settingsTimer = channel.eventLoop().schedule(() -> {
            if (state == State.CONNECTING) {
                fail(new ConnectTimeoutException("upstream " + endpoint.text() + " sent no HTTP/2 SETTINGS within "
                        + TimeUnit.NANOSECONDS.toMillis(pingTimeoutNanos) + "ms"));
                channel.close();
            }
        }, pingTimeoutNanos, TimeUnit.NANOSECONDS);
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onGoAwayReceived(int lastStreamId, long errorCode, io.netty.buffer.ByteBuf debugData) {
                goAway(lastStreamId);
            }
        });
        timer = channel.eventLoop().schedule(this, pingNanos > 0 ? Math.min(pingNanos, idleNanos) : idleNanos,
                TimeUnit.NANOSECONDS);
    }

    /** Runs before Netty closes the streams above {@code lastStreamId}: they were not processed. */
    private void goAway(int lastStreamId) {
        for (UpstreamConnection c : live) {
            int id = ((Http2StreamChannel) c.channel()).stream().id();
            if (id > lastStreamId || id <= 0) {
                c.refused();
            }
        }
        if (state != State.CLOSED) {
            state = State.DRAINING;
            failPending(new StreamRefused(endpoint));
            owner.drained(this);
            if (streams == 0) {
                channel.close();
            }
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastRead = System.nanoTime();
        try {
            if (msg instanceof Http2SettingsFrame sf && sf.settings().connectProtocolEnabled() != null) {
                connectProtocol = sf.settings().connectProtocolEnabled(); // a later SETTINGS may not repeat it
            }
            if (msg instanceof Http2SettingsFrame && state == State.CONNECTING) {
                if (settingsTimer != null) {
                    settingsTimer.cancel(false);
                }
                // The backend's first SETTINGS: its stream limit is known, the waiting streams may go.
                state = State.READY;
                int room = cap();
                Pending p;
                while ((p = pending.poll()) != null) {
                    if (room-- > 0) {
                        open(p.listener(), p.callback());
                    } else {
                        streams--;
                        owner.requeue(endpoint, p.listener(), p.callback(), p.maxConnections());
                    }
                }
                owner.streamFreed(this);
            } else if (msg instanceof Http2PingFrame ping && ping.ack()) {
                pingSent = 0;
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State was = state;
        state = State.CLOSED;
        if (timer != null) {
            timer.cancel(false);
        }
        if (settingsTimer != null) {
            settingsTimer.cancel(false);
        }
        failPending(was == State.CONNECTING ? new java.net.ConnectException("upstream " + endpoint.text()
                + " closed the HTTP/2 connection before its SETTINGS") : new StreamRefused(endpoint));
        owner.closed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** The keep-alive timer: a PING after {@code ping_interval} without a read; close if unanswered or idle. */
    @Override
    public void run() {
        timer = null;
        if (state == State.CLOSED) {
            return;
        }
        long now = System.nanoTime();
        if (pingSent != 0 && now - pingSent >= pingTimeoutNanos) {
            channel.close(); // the backend is gone without a FIN (or stuck): its streams fail, new ones go elsewhere
            return;
        }
        if (streams == 0 && now - idleSince >= idleNanos) {
            drain(); // timeouts.idle without a stream
            return;
        }
        if (pingNanos > 0 && pingSent == 0 && now - lastRead >= pingNanos) {
            pingSent = now;
            channel.writeAndFlush(new DefaultHttp2PingFrame(now));
        }
        long next = pingSent != 0 ? pingTimeoutNanos - (now - pingSent)
                : pingNanos > 0 ? Math.min(pingNanos - (now - lastRead), idleNanos) : idleNanos;
        timer = channel.eventLoop().schedule(this, Math.max(TimeUnit.MILLISECONDS.toNanos(10), next),
                TimeUnit.NANOSECONDS);
    }
}
