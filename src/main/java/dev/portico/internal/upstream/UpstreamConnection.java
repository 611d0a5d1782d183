package dev.portico.internal.upstream;

import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.upstream.IdleTimer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection to a backend, and the last stage of its pipeline. While borrowed it forwards everything to its
 * listener; while pooled any byte or event closes it. For an HTTP/2 backend it is one stream instead (a child
 * channel of an {@link Http2Parent}): never pooled, its end closes the stream, and a stream the backend did not
 * process (refused, above a GOAWAY's last stream id, or never sent) ends with {@link StreamRefused}.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter implements Runnable {
    private final UpstreamPool pool;
    private final Endpoint endpoint;
    /** Whether it opened with a PROXY protocol header: it serves the client named there, and is never pooled. */
    private final boolean exclusive;
    private Channel channel;
    private UpstreamListener listener;
    private int uses;
    private UpstreamCodec codec;
    private boolean inRead;
    /** When the response head is due, 0 for none; checked by one timer task that is re-armed only when it fires. */
    private long deadline;
    private ScheduledFuture<?> deadlineTask;
    /** The waiter of another loop this connection is closed for: its slot is that waiter's, no one else's. */
    private Runnable slotHeir;
    /** The HTTP/2 connection this stream belongs to; {@code null} for an HTTP/1.1 connection. */
    private Http2Parent parent;
    /** For a stream: the backend said it did not process it (REFUSED_STREAM, or a GOAWAY below its id). */
    private boolean refused;

    UpstreamConnection(UpstreamPool pool, Endpoint endpoint, boolean exclusive) {
        this.pool = pool;
        this.endpoint = endpoint;
        this.exclusive = exclusive;
    }

    /**
     * Makes this an HTTP/2 stream of {@code owner}.
     *
     * @param owner the connection
     * @param reuse whether the connection carried streams before (a reuse, for the metrics and the free retry)
     */
    void stream(Http2Parent owner, boolean reuse) {
        parent = owner;
        uses = reuse ? 1 : 0;
        connectedNanos = owner.connectedNanos();
        handshakeNanos = owner.handshakeNanos();
    }

    /** @return whether this is a stream of an HTTP/2 connection rather than an HTTP/1.1 connection */
    public boolean isHttp2() {
        return parent != null;
    }

    /**
     * @return whether this is a stream to a backend whose SETTINGS enabled extended CONNECT (RFC 8441 section 3),
     *     so that a WebSocket may go on it
     */
    public boolean acceptsExtendedConnect() {
        return parent != null && parent.connectProtocol();
    }

    /** The backend will not process this stream: its end is safe to retry. */
    void refused() {
        refused = true;
    }

    /** @return whether a PROXY protocol header named this connection's client, so no other client may use it */
    boolean exclusive() {
        return exclusive;
    }

    /** @return the channel */
    public Channel channel() {
        return channel;
    }

    /** @return the backend endpoint */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** When this connection was established, and its TLS handshake completed ({@link System#nanoTime}; 0: not yet). */
    private long connectedNanos;
    private long handshakeNanos;

    /** @return when the connection was established ({@link System#nanoTime}), 0 if not yet */
    public long connectedNanos() {
        return connectedNanos;
    }

    /** @return when its TLS handshake completed ({@link System#nanoTime}), 0 if there was none */
    public long handshakeNanos() {
        return handshakeNanos;
    }

    void connected(long nanos) {
        connectedNanos = nanos;
    }

    void handshaken(long nanos) {
        handshakeNanos = nanos;
    }

    /** @return whether this connection served an exchange before the current one */
    public boolean reused() {
        return uses > 1;
    }

    /**
     * Starts the wait for a response head. Back-to-back requests only move the deadline: the timer task is
     * scheduled when none is pending, so a busy connection schedules about one task per timeout period instead of
     * one per request.
     *
     * @param timeoutNanos how long the response head may take
     */
    public void startResponseDeadline(long timeoutNanos) {
        deadline = System.nanoTime() + timeoutNanos;
        if (deadlineTask == null) {
            deadlineTask = channel.eventLoop().schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The response head arrived (or the exchange ended): no deadline. */
    public void clearResponseDeadline() {
        deadline = 0;
    }

    /** The deadline timer fired: time out, or wait on for a deadline that moved. */
    @Override
    public void run() {
        deadlineTask = null;
        if (deadline == 0 || !channel.isOpen()) {
            return;
        }
        long left = deadline - System.nanoTime();
        if (left > 0) {
            deadlineTask = channel.eventLoop().schedule(this, left, TimeUnit.NANOSECONDS);
            return;
        }
        deadline = 0;
        if (listener != null) {
            listener.onUpstreamResponseTimeout();
        }
    }

    void slotHeir(Runnable waiter) {
        slotHeir = waiter;
    }

    /** @return who gets this connection's slot when it closes, or {@code null} for the longest-waiting request */
    Runnable slotHeir() {
        return slotHeir;
    }

    void codec(UpstreamCodec value) {
        codec = value;
    }

    /** @return bytes the connection received that are not yet decoded into a message */
    int undecodedBytes() {
        return codec == null ? 0 : codec.undecodedBytes();
    }

    /** @return whether a read of this connection is being processed right now */
    boolean inRead() {
        return inRead;
    }

    void borrow(UpstreamListener newListener) {
        listener = newListener;
        uses++;
    }

    /**
     * Gives the connection back to its pool for reuse. Only call it after a complete response to a completely
     * sent request on a connection the backend keeps alive.
     */
    public void release() {
        if (parent != null) {
            listener = null;
            deadline = 0;
            channel.close(); // a stream is never reused: both sides ended, so it closes without a reset
            return;
        }
        listener = null;
        deadline = 0;
        // The decoder may still hold bytes of this read: the pool lends the connection again only after the read
        // is over and nothing is left undecoded (UpstreamPool.acquire checks both).
        pool.giveBack(this);
    }

    /** Closes the connection; it is never reused. */
    public void discard() {
        listener = null;
        if (channel != null) {
            channel.close();
        }
    }

    /**
     * The backend switched protocols (101, or a stream's 200 to an extended CONNECT): the connection leaves HTTP,
     * and its pool, for good (a stream stays one of its connection's until it closes). Call from the
     * listener's handling of the 101 head; {@code tunnelEnd} replaces this handler, then the idle timer and the
     * codec go (the decoder last, so bytes it holds beyond the 101 reach {@code tunnelEnd}).
     *
     * @param tunnelEnd the handler that carries the backend's bytes from now on
     */
    public void switchProtocols(ChannelHandler tunnelEnd) {
        listener = null;
        deadline = 0;
        if (deadlineTask != null) {
            deadlineTask.cancel(false);
            deadlineTask = null;
        }
        ChannelPipeline p = channel.pipeline();
        if (parent != null) {
            // A stream opened by an extended CONNECT: its DATA frames become the tunnel's bytes and back.
            p.remove(Http2HeadCoalescer.class);
            Http2TunnelFrames.install(p.context(this), tunnelEnd, null);
            return;
        }
        p.replace(this, "tunnel", tunnelEnd);
        p.remove(IdleTimer.class);
        p.remove(codec);
    }

    /** A stream refused, or whose HEADERS never left (e.g. the connection went away first): nothing was processed. */
    private boolean notProcessed() {
        return parent != null && (refused || ((Http2StreamChannel) channel).stream().id() <= 0);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inRead = true;
        if (parent != null && !(msg instanceof HttpObject)) {
            if (msg instanceof Http2ResetFrame r && r.errorCode() == Http2Error.REFUSED_STREAM.code()) {
                refused = true; // RFC 9113 section 8.7: not processed, safe to send again
            }
            ReferenceCountUtil.release(msg); // the stream closes next: channelInactive tells the listener
            return;
        }
        if (parent != null && msg instanceof HttpResponse r) {
            r.headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text()); // Netty's, not the backend's
            if (msg instanceof FullHttpResponse full) {
                // A HEADERS frame that ended the stream: exchanges read a head and then the end, as HTTP/1.1 gives.
                UpstreamListener l = listener;
                HttpResponse head = new DefaultHttpResponse(full.protocolVersion(), full.status(), full.headers());
                LastHttpContent end = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
                if (l == null) {
                    end.release();
                    ctx.close();
                    return;
                }
                l.onUpstreamMessage(head);
                if (listener == l) {
                    l.onUpstreamMessage(end);
                } else {
                    end.release();
                }
                return;
            }
        }
        UpstreamListener l = listener;
        if (l != null && msg instanceof HttpObject) {
            l.onUpstreamMessage((HttpObject) msg);
            return;
        }
        // Bytes on an idle connection: a response nobody asked for. Never let the next borrower read it.
        ReferenceCountUtil.release(msg);
        ctx.close();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        if (listener != null) {
            listener.onUpstreamReadComplete();
        } else if (endpoint.hasWaiters()) {
            // Given back during this read, and a request began waiting before the read was over (the next
            // pipelined one): the pool could not lend it then, so it does now.
            pool.readOver(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (listener != null && ctx.channel().isWritable()) {
            listener.onUpstreamWritable();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadline = 0;
        if (deadlineTask != null) {
            deadlineTask.cancel(false); // do not hold a closed connection until the task would fire
            deadlineTask = null;
        }
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(notProcessed() ? new StreamRefused(endpoint) : null);
        } else {
            pool.forget(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception e && e.error() == Http2Error.REFUSED_STREAM) {
            refused = true; // Netty would not open the stream (e.g. over the backend's limit): it never left
        }
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(notProcessed() ? new StreamRefused(endpoint) : cause);
        }
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (parent != null && evt instanceof Http2ResetFrame r) {
            // Netty passes RST_STREAM as an event (it is not flow-controlled); the stream closes next.
            if (r.errorCode() == Http2Error.REFUSED_STREAM.code()) {
                refused = true; // RFC 9113 section 8.7: not processed, safe to send again
            }
            ReferenceCountUtil.release(evt);
            return;
        }
        if (parent != null && evt instanceof Http2GoAwayFrame) {
            ReferenceCountUtil.release(evt); // the connection's listener marked the streams it did not process
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (listener != null) {
                listener.onUpstreamIdle();
            } else {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
