package dev.portico.internal.server;

import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The deadlines of an HTTP/2 connection, which only requests make progress against: PING, SETTINGS, WINDOW_UPDATE
 * and the like keep nothing alive.
 * <ul>
 *   <li>With no stream open for {@code timeouts.idle} (since its last stream closed, or since it began), the
 *       connection is closed with GOAWAY NO_ERROR. Open streams have idle timers of their own.</li>
 *   <li>A request head (a HEADERS frame and the CONTINUATION frames that end its block) must arrive whole within
 *       {@code timeouts.request_header} of its first byte, and the connection's first one within that of the
 *       connection's start, as an HTTP/1.1 connection's first request head. A connection that opened no stream by
 *       then is closed with GOAWAY NO_ERROR; one with a head under way with GOAWAY PROTOCOL_ERROR (what nginx sends
 *       on a read timeout): an unfinished header block leaves the connection's HPACK state undefined, so its stream
 *       cannot be reset alone, and Netty holds the block until it ends.</li>
 * </ul>
 * Netty tells nothing of a header block before its end, so {@link HeaderBlockWatch}, in front of the codec, reads
 * the frame headers off the client's bytes. This stage sits right behind the codec, so its GOAWAY and close pass
 * through it. One timer task per connection; all on the connection's event loop.
 */
final class Http2Deadlines extends ChannelInboundHandlerAdapter implements Runnable {
    private final ProxyRuntime runtime;
    private final Http2FrameCodec codec;
    private final long idleNanos;
    private final long headNanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> task;
    private long taskDue;
    private long idleSince;
    /** A request head is awaited (the first one, or one whose block began) and must be whole by {@link #headDue}. */
    private boolean headAwaited;
    private long headDue;
    /** Bytes of the awaited head came: its timeout is the client's fault, and logged. */
    private boolean headStarted;
    private boolean closing;

    /** @param firstHead whether the connection's first request is still to come (not an h2c upgrade's) */
    Http2Deadlines(ProxyRuntime runtime, Http2FrameCodec codec, boolean firstHead) {
        this.runtime = runtime;
        this.codec = codec;
        this.idleNanos = runtime.config().timeouts().idle().toNanos();
        this.headNanos = runtime.config().timeouts().requestHeader().toNanos();
        this.headAwaited = firstHead;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        long now = System.nanoTime();
        idleSince = now;
        headDue = now + headNanos;
        codec.connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                idleSince = System.nanoTime();
            }
        });
        schedule(now);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        cancel();
        context.fireChannelInactive();
    }

    private void cancel() {
        closing = true;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    /** A header block began at {@code startNanos} and did not end with the bytes read so far. */
    void headerBlockOpen(long startNanos) {
        if (!headAwaited) {
            headAwaited = true;
            headDue = startNanos + headNanos;
        }
        headStarted = true;
        schedule(System.nanoTime());
    }

    /** A header block ended: a request head (or trailers) came whole, which counts as progress. */
    void headerBlockEnded() {
        headAwaited = false;
        headStarted = false;
        idleSince = System.nanoTime();
    }

    private void schedule(long now) {
        if (closing) {
            return;
        }
        long due = codec.connection().numActiveStreams() > 0 ? now + idleNanos : idleSince + idleNanos;
        if (headAwaited && headDue - due < 0) {
            due = headDue;
        }
        if (task != null) {
            if (due - taskDue >= 0) {
                return; // the task fires first and reschedules
            }
            task.cancel(false);
        }
        taskDue = due;
        task = ctx.executor().schedule(this, Math.max(0, due - now), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        task = null;
        if (closing || !ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (headAwaited && now - headDue >= 0) {
            closing = true;
            if (headStarted) {
                runtime.logRejected(ctx.channel(), null,
                        new ProxyFailure(Kind.REQUEST_TIMEOUT, "HTTP/2 request head not received in time"));
                runtime.metrics().rejected(Kind.REQUEST_TIMEOUT);
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.PROTOCOL_ERROR))
                        .addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close(); // no stream ever opened: the codec sends GOAWAY NO_ERROR first
            }
            return;
        }
        if (codec.connection().numActiveStreams() == 0 && now - (idleSince + idleNanos) >= 0) {
            closing = true;
            ctx.close(); // the codec sends GOAWAY NO_ERROR first
            return;
        }
        schedule(now);
    }

    /**
     * Reads the frame headers in the client's bytes (after the connection preface) without consuming anything, and
     * tells {@link Http2Deadlines} when a header block stays open past a read and when it ends. It sits in front of
     * the codec; the deadlines stage is found behind it once bytes come (an h2c upgrade adds it later).
     */
    static final class HeaderBlockWatch extends ChannelInboundHandlerAdapter {
        private static final int PREFACE_LENGTH = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".length();
        private static final int FRAME_HEADER_LENGTH = 9;
        private static final byte HEADERS = 0x1;
        private static final byte CONTINUATION = 0x9;
        private static final int END_HEADERS = 0x4;

        private final byte[] header = new byte[FRAME_HEADER_LENGTH];
        private int headerFill;
        /** Bytes to pass over: the preface, then each frame's payload. */
        private long skip = PREFACE_LENGTH;
        /** The frame being passed over ends a header block. */
        private boolean endsBlock;
        private boolean blockOpen;
        private long blockStart;
        private ChannelHandlerContext ctx;
        private Http2Deadlines deadlines;

        @Override
        public void handlerAdded(ChannelHandlerContext context) {
            ctx = context;
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object msg) {
            if (msg instanceof ByteBuf buf) {
                scan(buf);
                Http2Deadlines d = blockOpen ? deadlines() : null;
                if (d != null) {
                    d.headerBlockOpen(blockStart);
                }
            }
            context.fireChannelRead(msg);
        }

        private Http2Deadlines deadlines() {
            if (deadlines == null) {
                deadlines = ctx.pipeline().get(Http2Deadlines.class);
            }
            return deadlines;
        }

        private void scan(ByteBuf buf) {
            int i = buf.readerIndex();
            int end = buf.writerIndex();
            while (i < end) {
                if (skip > 0) {
                    int n = (int) Math.min(skip, end - i);
                    i += n;
                    skip -= n;
                    if (skip == 0 && endsBlock) {
                        blockEnded();
                    }
                    continue;
                }
                header[headerFill++] = buf.getByte(i++);
                if (headerFill == FRAME_HEADER_LENGTH) {
                    headerFill = 0;
                    frameHeader();
                }
            }
        }

        private void frameHeader() {
            int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
            byte type = header[3];
            if (type == HEADERS) {
                blockOpen = true;
                blockStart = System.nanoTime();
            }
            endsBlock = (type == HEADERS || type == CONTINUATION) && (header[4] & END_HEADERS) != 0;
            skip = length;
            if (skip == 0 && endsBlock) {
                blockEnded();
            }
        }

        private void blockEnded() {
            endsBlock = false;
            blockOpen = false;
            Http2Deadlines d = deadlines();
            if (d != null) {
                d.headerBlockEnded();
            }
        }
    }
}
