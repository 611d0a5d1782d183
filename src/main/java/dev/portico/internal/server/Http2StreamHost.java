package dev.portico.internal.server;

import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.TunnelStream;
import dev.portico.internal.upstream.Http2TunnelFrames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;

/**
 * One stream of an HTTP/2 client connection as state on the connection's {@link Http2Streams}, not a channel: the
 * same exchange host as {@link MultiplexedStream} (whose request logic it inherits), with the stream's I/O done in
 * frames. Its request head is checked ({@link Http2RequestCheck}) and converted once; DATA becomes body parts, and
 * the flow-control window for what was handed on is returned when the stream reads on (at the end of the
 * connection's read, or when reading resumes), as a stream channel returned it when asked for its next read: a
 * stream that is not read (its exchange wants no body now) holds at most one window, and the client's window
 * closes. The response's HTTP/1.1 objects become HEADERS and DATA frames (a head with an empty end: one HEADERS
 * frame with END_STREAM, as gRPC's trailers-only answer needs); writes follow the stream's send window. All calls
 * on the connection's event loop.
 */
final class Http2StreamHost extends MultiplexedStream implements Http2ResponseFrames.Out {
    private final Http2Streams streams;
    private final Http2FrameStream stream;
    /** Frames that arrived while the stream was not reading. */
    private ArrayDeque<Http2StreamFrame> queued;
    private boolean reading = true;
    private boolean open = true;
    private boolean checked;
    /** The request head failed its checks: what the client still sends is dropped. */
    private boolean rejected;
    /** The response's parts as frames. */
    private final Http2ResponseFrames response;
    /** Whether anything moved on the stream since the last idle tick, and when it was last seen quiet. */
    private boolean moved;
    private long quietSince = System.nanoTime();
    /** Set while the stream is on its connection's list of streams that read in the current read. */
    boolean queuedForReadComplete;
    /** The tunnel's end once the stream carries a WebSocket (RFC 8441), or null. */
    private TunnelStream.End tunnel;
    /** Flow-controlled bytes handed on and not yet returned to the client as window: returned on the next read. */
    private int unreturned;
    /** The stream was reset (by the client or by Portico); the client sent END_STREAM. */
    private boolean reset;
    private boolean clientEnded;
    /** Closed after both END_STREAMs, a tunnel yet to take the client's last bytes (queued): done once it has. */
    private boolean closing;

    Http2StreamHost(Http2Streams streams, Http2FrameStream stream) {
        super(streams.runtime(), streams.shared());
        this.streams = streams;
        this.stream = stream;
        this.response = new Http2ResponseFrames(this, streams.altSvc());
    }

    int id() {
        return stream.id();
    }

    /** Activity that is not a frame of this stream (the client granted send window). */
    void touch() {
        moved = true;
    }

    // ---- the stream's I/O, in frames on the connection

    @Override
    Channel parentChannel() {
        return streams.context().channel();
    }

    @Override
    Channel streamChannel() {
        return streams.context().channel();
    }

    @Override
    boolean streamActive() {
        return open && streams.context().channel().isActive();
    }

    @Override
    void closeStream() {
        if (closing) { // closed by the codec, its last bytes still held for a tunnel that closes now
            streams.forget(this);
            finishClose();
            return;
        }
        if (!open) {
            return;
        }
        // No reset if both sides ended it (the client's END_STREAM being read): it ended normally, not cut short.
        if (!clientEnded || stream.state() != Http2Stream.State.HALF_CLOSED_LOCAL) {
            reset = true;
            streams.context().writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream),
                    streams.quiet());
        }
        streams.forget(this);
        streamClosed();
    }

    @Override
    void reset(Http2Error error) {
        if (open) {
            streams.context().writeAndFlush(new DefaultHttp2ResetFrame(error).stream(stream), streams.quiet());
        }
    }

    @Override
    Http2ConnectionGuard guard() {
        return streams.guard();
    }

    @Override
    public int requestNumber() {
        return stream.id();
    }

    @Override
    public boolean clientWritable() {
        return streams.writable(stream);
    }

    /**
     * The stream may take more, or less: its send window, the connection's window or the connection's writability
     * changed. Not activity of its own (Netty signals every stream when the connection's state flips); a client
     * that grants this stream window is seen in its WINDOW_UPDATE frames.
     */
    void connectionWritable() {
        if (tunnel != null) {
            tunnel.windowChanged();
        } else {
            super.sendWindowChanged();
        }
    }

    @Override
    boolean reading() {
        return reading;
    }

    @Override
    void reading(boolean on) {
        reading = on;
        boolean delivered = false;
        Http2StreamFrame f;
        while (reading && queued != null && (f = queued.poll()) != null) {
            deliver(f);
            delivered = true;
        }
        if (closing && (queued == null || queued.isEmpty())) {
            streams.forget(this);
            finishClose(); // the tunnel has all the client sent
            return;
        }
        if (delivered && !streams.inRead()) {
            readComplete(); // as a read of the connection would end
        } else {
            returnWindow();
        }
    }

    /** Returns the window for what was handed on if the stream reads on: a stopped one holds one window at most. */
    private void returnWindow() {
        if (unreturned > 0 && reading && open) {
            streams.consumed(stream, unreturned);
            unreturned = 0;
        }
    }

    // ---- frames from the client

    /** A frame of this stream from the client. */
    void received(Http2StreamFrame f) {
        if (!(f instanceof Http2HeadersFrame) && !(f instanceof Http2DataFrame)) {
            reset |= f instanceof Http2ResetFrame;
            ReferenceCountUtil.release(f); // RST_STREAM (the stream closes next), PRIORITY
            return;
        }
        moved = true;
        clientEnded |= f instanceof Http2DataFrame d ? d.isEndStream() : ((Http2HeadersFrame) f).isEndStream();
        if (rejected) {
            dropped(f);
            return;
        }
        if (!reading || queued != null && !queued.isEmpty()) {
            if (queued == null) {
                queued = new ArrayDeque<>(4);
            }
            queued.add(f);
            return;
        }
        deliver(f);
    }

    private void dropped(Http2StreamFrame f) {
        if (f instanceof Http2DataFrame d) {
            streams.consumed(stream, d.initialFlowControlledBytes());
        }
        ReferenceCountUtil.release(f);
    }

    private void deliver(Http2StreamFrame f) {
        if (streams.inRead()) {
            streams.readBy(this);
        }
        if (f instanceof Http2DataFrame d) {
            unreturned += d.initialFlowControlledBytes();
        }
        if (tunnel != null) {
            Http2StreamTunnel.deliver(f, tunnel);
            return;
        }
        if (f instanceof Http2DataFrame d) {
            read(d.isEndStream() ? new DefaultLastHttpContent(d.content()) : new DefaultHttpContent(d.content()));
            return;
        }
        Http2HeadersFrame h = (Http2HeadersFrame) f;
        if (!checked) {
            checked = true;
            head(h);
        } else if (h.isEndStream()) { // trailers
            LastHttpContent last;
            try {
                last = Http2RequestCheck.trailers(h);
            } catch (Exception e) {
                runtime.logConnectionError(streamChannel(), e);
                closeStream();
                return;
            }
            read(last);
        }
    }

    /** The request head: checked, and converted once to HTTP/1.1's form. */
    private void head(Http2HeadersFrame frame) {
        ProxyFailure failure = Http2RequestCheck.check(frame, runtime.config().limits().maxHeaders());
        if (failure != null) {
            rejected = true;
            reject(failure, frame.headers().method(), frame.headers().path(), frame.isEndStream());
            return;
        }
        if (Http2RequestCheck.isConnect(frame.headers())) {
            Http2RequestCheck.asGet(frame.headers());
            extendedConnect();
        }
        HttpRequest head;
        try {
            head = Http2RequestCheck.toHttp(frame);
        } catch (Exception e) {
            runtime.logConnectionError(streamChannel(), e);
            closeStream();
            return;
        }
        read(head);
    }

    // ---- the response, as frames

    @Override
    public void write(HttpObject part) {
        moved = true;
        response.write(part, null);
    }

    @Override
    public ChannelFuture send(HttpObject part, boolean flush) {
        moved = true;
        ChannelPromise promise = streams.context().newPromise();
        response.write(part, promise);
        if (flush) {
            flush();
        }
        return promise;
    }

    @Override
    public void flush() {
        response.flush();
        streams.context().flush();
    }

    @Override
    ChannelFuture writeAndFlush(Object msg) {
        return send((HttpObject) msg, true);
    }

    /** Writes a frame of this stream on the connection. */
    @Override
    public void frame(Http2StreamFrame f, ChannelPromise promise) {
        if (!open) { // reset or closed meanwhile: what is still written goes nowhere
            ReferenceCountUtil.release(f);
            if (promise != null) {
                promise.tryFailure(new ClosedChannelException());
            }
            return;
        }
        streams.write(f.stream(stream), promise);
    }

    // ---- the tunnel (RFC 8441)

    @Override
    public TunnelStream tunnelStream() {
        return new Http2StreamTunnel(this, streams, stream);
    }

    /** @param end the tunnel's end, given the stream's frames and events from now on */
    void attach(TunnelStream.End end) {
        tunnel = end;
    }

    @Override
    boolean installTunnel(ChannelHandler tunnelEnd, ArrayDeque<HttpContent> early) {
        return Http2TunnelFrames.handOver(early, tunnel::bytes);
    }

    @Override
    void readComplete() {
        if (tunnel != null) {
            tunnel.readDone();
        } else {
            super.readComplete();
        }
        returnWindow();
    }

    // ---- the end

    /**
     * The codec closed the stream (both sides ended, or a reset), or the connection closed.
     *
     * @return whether the stream is done with; {@code false} while a tunnel has yet to take what the client sent
     *     before its END_STREAM (the stream then forgets itself once that is delivered, or when it is closed)
     */
    boolean streamClosed() {
        if (!open && !closing) {
            return true;
        }
        open = false;
        response.discard();
        if (tunnel != null && !reset && endsQueued() && streams.context().channel().isActive()) {
            closing = true;
            return false;
        }
        finishClose();
        return true;
    }

    /** @return whether the client's END_STREAM is queued last: the stream ended normally, its last bytes held */
    private boolean endsQueued() {
        Http2StreamFrame last = queued == null ? null : queued.peekLast();
        return last instanceof Http2DataFrame d && d.isEndStream()
                || last instanceof Http2HeadersFrame h && h.isEndStream();
    }

    private void finishClose() {
        closing = false;
        Http2StreamFrame f;
        while (queued != null && (f = queued.poll()) != null) {
            ReferenceCountUtil.release(f);
        }
        if (tunnel != null) {
            tunnel.streamClosed();
        }
        closed();
    }

    /** The connection's idle tick. */
    void checkIdle(long now, long idleNanos) {
        if (moved) {
            moved = false;
            quietSince = now;
        } else if (now - quietSince >= idleNanos) {
            quietSince = now;
            if (tunnel == null) {
                idle();
            }
        }
    }
}
