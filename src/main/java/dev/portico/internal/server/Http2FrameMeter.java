package dev.portico.internal.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.logging.LogLevel;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the frames an HTTP/2 client sends that carry no request: PING, SETTINGS and SETTINGS acknowledgements,
 * PRIORITY, frames of unknown type, and WINDOW_UPDATE beyond two per DATA frame Portico sent (one for the stream,
 * one for the connection, what a client reading the response needs). More than
 * {@code http2.max_control_frames_per_second} of them in a second close the connection with GOAWAY
 * ENHANCE_YOUR_CALM: each costs Portico work and none makes progress (CVE-2019-9512, CVE-2019-9516 and the like).
 * It sits where Netty's frame logger does, so it sees each frame as the codec reads or writes it; one per
 * connection, used on the connection's event loop only.
 */
final class Http2FrameMeter extends Http2FrameLogger {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    /** Cap on the WINDOW_UPDATE allowance a long download can bank. */
    private static final int MAX_CREDIT = 1 << 16;

    private final int maxPerSecond;
    private long windowStart = System.nanoTime();
    private int frames;
    private int windowUpdateCredit;
    private boolean tripped;

    Http2FrameMeter(int maxPerSecond) {
        super(LogLevel.TRACE, Http2FrameMeter.class);
        this.maxPerSecond = maxPerSecond;
    }

    private void count(Direction direction, ChannelHandlerContext ctx) {
        if (direction != Direction.INBOUND || tripped) {
            return;
        }
        long now = System.nanoTime();
        if (now - windowStart >= 1_000_000_000L) {
            windowStart = now;
            frames = 0;
        }
        if (++frames > maxPerSecond) {
            tripped = true;
            LOG.warn("{} more than {} control frames (PING, SETTINGS, PRIORITY, WINDOW_UPDATE, unknown) per second:"
                    + " closing the HTTP/2 connection", ctx.channel().id().asShortText(), maxPerSecond);
            // Thrown through the frame reader, so the codec answers as for any connection error: GOAWAY and close.
            PlatformDependent.throwException(Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
                    "too many control frames"));
        }
    }

    @Override
    public void logData(Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                        boolean endStream) {
        if (direction == Direction.OUTBOUND && windowUpdateCredit < MAX_CREDIT) {
            windowUpdateCredit += 2;
        }
        super.logData(direction, ctx, streamId, data, padding, endStream);
    }

    @Override
    public void logWindowsUpdate(Direction direction, ChannelHandlerContext ctx, int streamId, int increment) {
        if (direction == Direction.INBOUND && windowUpdateCredit > 0) {
            windowUpdateCredit--;
        } else {
            count(direction, ctx);
        }
        super.logWindowsUpdate(direction, ctx, streamId, increment);
    }

    @Override
    public void logPing(Direction direction, ChannelHandlerContext ctx, long data) {
        count(direction, ctx);
        super.logPing(direction, ctx, data);
    }

    @Override
    public void logPingAck(Direction direction, ChannelHandlerContext ctx, long data) {
        count(direction, ctx);
        super.logPingAck(direction, ctx, data);
    }

    @Override
    public void logSettings(Direction direction, ChannelHandlerContext ctx, Http2Settings settings) {
        count(direction, ctx);
        super.logSettings(direction, ctx, settings);
    }

    @Override
    public void logSettingsAck(Direction direction, ChannelHandlerContext ctx) {
        count(direction, ctx);
        super.logSettingsAck(direction, ctx);
    }

    @Override
    public void logPriority(Direction direction, ChannelHandlerContext ctx, int streamId, int streamDependency,
                            short weight, boolean exclusive) {
        count(direction, ctx);
        super.logPriority(direction, ctx, streamId, streamDependency, weight, exclusive);
    }

    @Override
    public void logUnknownFrame(Direction direction, ChannelHandlerContext ctx, byte frameType, int streamId,
                                Http2Flags flags, ByteBuf data) {
        count(direction, ctx);
        super.logUnknownFrame(direction, ctx, frameType, streamId, flags, data);
    }
}
