package dev.portico.internal.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2WindowUpdateFrame;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The streams of one HTTP/2 client connection, kept as state on the connection: the stage right after Netty's
 * frame codec, in place of a multiplexer with a child channel and pipeline per stream. Each stream is an
 * {@link Http2StreamHost}, made when the client opens it and dropped when the codec closes it; this handler hands it
 * its frames, tells it when its send window opens, returns the flow-control window for what it consumed, and checks
 * once per tick whether any stream has been quiet for {@code timeouts.idle}. Frames of no stream (SETTINGS, PING,
 * GOAWAY) go on to the next stage. All calls on the connection's event loop.
 */
final class Http2Streams extends ChannelDuplexHandler {
    private final ProxyRuntime runtime;
    private final Http2FrameCodec codec;
    private final IntObjectHashMap<Http2StreamHost> streams = new IntObjectHashMap<>();
    /** What the streams of the connection would each look up: its client's address, its TLS summary. */
    private final Http2StreamSide.Connection shared = new Http2StreamSide.Connection();
    /** The streams that were given frames during the connection's current read: told when the read is over. */
    private final List<Http2StreamHost> readers = new ArrayList<>();
    private final long idleNanos;
    private ChannelHandlerContext ctx;
    private Http2Connection connection;
    private Http2RemoteFlowController flow;
    private Http2ConnectionGuard guard;
    private String altSvc;
    private boolean inRead;
    /** The streams are being told that the read is over: what they write is flushed by the codec right after. */
    private boolean completing;
    private ScheduledFuture<?> sweep;

    /**
     * @param runtime the running proxy
     * @param codec the connection's frame codec, for its streams' send windows
     */
    Http2Streams(ProxyRuntime runtime, Http2FrameCodec codec) {
        this.runtime = runtime;
        this.codec = codec;
        this.idleNanos = runtime.config().timeouts().idle().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        AltSvc a = context.channel().attr(AltSvc.KEY).get();
        altSvc = a == null ? null : a.value(); // the listener serves HTTP/3 too
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    ProxyRuntime runtime() {
        return runtime;
    }

    Http2StreamSide.Connection shared() {
        return shared;
    }

    /** @return the {@code Alt-Svc} value for response heads, or {@code null} */
    String altSvc() {
        return altSvc;
    }

    /** @return the connection's guard against client errors and resets, or {@code null} if it has none */
    Http2ConnectionGuard guard() {
        if (guard == null) {
            guard = ctx.pipeline().get(Http2ConnectionGuard.class);
        }
        return guard;
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (!(msg instanceof Http2StreamFrame frame) || frame.stream() == null) {
            context.fireChannelRead(msg); // SETTINGS, PING, GOAWAY and the like: the connection's
            return;
        }
        inRead = true;
        Http2StreamHost stream = streams.get(frame.stream().id());
        if (stream == null) {
            io.netty.util.ReferenceCountUtil.release(msg); // a stream already forgotten (say, reset by Portico)
            return;
        }
        if (msg instanceof Http2WindowUpdateFrame) {
            stream.touch(); // the client reads this stream: not idle (the codec applied the window)
            return;
        }
        stream.received(frame);
    }

    /** @param stream a stream that was given frames during the current read, to be told when it is over */
    void readBy(Http2StreamHost stream) {
        if (!stream.queuedForReadComplete) {
            stream.queuedForReadComplete = true;
            readers.add(stream);
        }
    }

    /** @return whether the connection is in a read: what its streams write is flushed when it is over */
    boolean inRead() {
        return inRead;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        inRead = false;
        if (!readers.isEmpty()) {
            // No copy: outside the read nothing joins the list (a stream joins only while a read is in progress).
            completing = true;
            try {
                for (int i = 0; i < readers.size(); i++) {
                    readers.get(i).readComplete();
                }
            } finally {
                for (int i = 0; i < readers.size(); i++) {
                    readers.get(i).queuedForReadComplete = false;
                }
                readers.clear();
                completing = false;
            }
        }
        context.fireChannelReadComplete(); // the codec flushes after this
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object evt) {
        if (!(evt instanceof Http2FrameStreamEvent e)) {
            context.fireUserEventTriggered(evt);
            return;
        }
        Http2FrameStream s = e.stream();
        if (e.type() == Http2FrameStreamEvent.Type.Writability) {
            Http2StreamHost h = streams.get(s.id());
            if (h != null) {
                h.connectionWritable();
            }
            return;
        }
        switch (s.state()) {
            case OPEN, HALF_CLOSED_REMOTE -> {
                if (!streams.containsKey(s.id())) {
                    streams.put(s.id(), new Http2StreamHost(this, s));
                    if (sweep == null) {
                        scheduleSweep();
                    }
                }
            }
            case CLOSED -> {
                Http2StreamHost h = streams.get(s.id());
                if (h != null && h.streamClosed()) {
                    streams.remove(s.id());
                }
            }
            default -> {
            }
        }
    }

    /** Forgets a stream Portico closed itself. */
    void forget(Http2StreamHost stream) {
        streams.remove(stream.id());
    }

    /**
     * @return whether the stream may send DATA now: window left on the stream and on the connection beyond what is
     *     queued, and the connection writable
     */
    boolean writable(Http2FrameStream stream) {
        if (!ctx.channel().isWritable()) {
            return false;
        }
        if (connection == null) {
            connection = codec.connection();
            flow = connection.remote().flowController();
        }
        Http2Stream s = connection.stream(stream.id());
        return s != null && flow.isWritable(s); // a stream that is gone takes nothing more
    }

    /** A stream consumed {@code bytes} of flow-controlled DATA: the client may send as much again. */
    void consumed(Http2FrameStream stream, int bytes) {
        if (bytes > 0) {
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), quiet());
            if (!inRead && !completing) {
                ctx.flush(); // outside a read nothing else would flush it, and the client would wait
            }
        }
    }

    /**
     * Writes a frame of a stream.
     *
     * @param frame the frame, its stream set
     * @param promise its promise, or {@code null}: then a failure (the stream was reset meanwhile, say) stays the
     *     stream's affair and never reaches the connection's pipeline as an error
     */
    void write(Object frame, ChannelPromise promise) {
        ctx.write(frame, promise == null ? quiet() : promise);
    }

    /**
     * @return a void promise whose failure is dropped: the channel's (and the context's) void promise would report
     *     it to the pipeline, and Netty's encoder fails a stream's frames that way when the stream closes with
     *     frames still queued for its window, each one then taken for a client's error on the connection
     */
    ChannelPromise quiet() {
        return ctx.channel().unsafe().voidPromise();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        if (context.channel().isWritable() && !streams.isEmpty()) {
            for (Http2StreamHost h : streams.values().toArray(new Http2StreamHost[0])) {
                h.connectionWritable();
            }
        }
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        if (sweep != null) {
            sweep.cancel(false);
            sweep = null;
        }
        if (!streams.isEmpty()) {
            Http2StreamHost[] all = streams.values().toArray(new Http2StreamHost[0]);
            streams.clear();
            for (Http2StreamHost h : all) {
                h.streamClosed();
            }
        }
        context.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            // A stream error (RFC 9113 section 5.4.2): the codec leaves the reset to the stream's owner.
            Http2StreamHost h = streams.get(e.stream().id());
            if (h != null) {
                if (e.getCause() instanceof Http2Exception) {
                    h.streamError(e.getCause());
                } else {
                    runtime.logConnectionError(context.channel(), e.getCause());
                }
            }
            context.writeAndFlush(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), quiet());
            return;
        }
        context.fireExceptionCaught(cause);
    }

    /**
     * The idle check: one task per connection while it has streams, every quarter of {@code timeouts.idle} (at
     * most a second). A stream marks activity with a flag; the tick that finds the flag set takes its own time as the
     * stream's last activity, so a stream is answered between one idle time and one tick more after it went quiet.
     */
    private void scheduleSweep() {
        long tick = Math.min(idleNanos / 4, TimeUnit.SECONDS.toNanos(1));
        sweep = ctx.executor().schedule(this::sweep, Math.max(tick, 1), TimeUnit.NANOSECONDS);
    }

    private void sweep() {
        sweep = null;
        if (streams.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        for (Http2StreamHost h : streams.values().toArray(new Http2StreamHost[0])) {
            h.checkIdle(now, idleNanos);
        }
        if (!streams.isEmpty()) {
            scheduleSweep();
        }
    }
}
