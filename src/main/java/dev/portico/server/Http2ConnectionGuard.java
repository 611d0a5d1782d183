package dev.portico.server;

import dev.portico.config.Http2Config;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last stage of an HTTP/2 connection: sees the connection-level frames the multiplexer passes on, closes a
 * client that sends more PING and SETTINGS frames per second than {@code http2.max_control_frames_per_second}
 * (GOAWAY ENHANCE_YOUR_CALM), and closes the connection when it is idle with no stream open.
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    /** The widest connection receive window Portico grants: 16 streams' default windows. */
    static final long MAX_CONNECTION_WINDOW = 1L << 20;

    private final int maxControlFramesPerSecond;
    private final int maxConcurrentStreams;
    private final Http2FrameCodec codec;
    private long windowStart = System.nanoTime();
    private int controlFrames;
    private boolean draining;

    Http2ConnectionGuard(Http2Config config, Http2FrameCodec codec) {
        this.maxControlFramesPerSecond = config.maxControlFramesPerSecond();
        this.maxConcurrentStreams = config.maxConcurrentStreams();
        this.codec = codec;
    }

    /**
     * Widens the connection's receive window from the protocol's 64 KiB to the sum of the stream windows, at most
     * {@link #MAX_CONNECTION_WINDOW}, so a few streams whose backends do not read cannot stall the uploads of the
     * others. The cap matters: DATA for a stream not read yet is held, up to its stream window, and the connection
     * window bounds the sum; 100 streams' windows would let one connection park 6.4 MiB in Portico.
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        int streamWindow = Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        long sum = Math.min(MAX_CONNECTION_WINDOW, (long) streamWindow * Math.max(1, maxConcurrentStreams));
        int increment = (int) Math.min(Integer.MAX_VALUE - streamWindow, sum - streamWindow);
        if (increment > 0) {
            ctx.executor().execute(() -> {
                if (ctx.channel().isActive() && !ctx.isRemoved()) {
                    ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(increment));
                }
            });
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        boolean control = msg instanceof Http2PingFrame || msg instanceof Http2SettingsFrame;
        ReferenceCountUtil.release(msg);
        if (control && !draining) {
            long now = System.nanoTime();
            if (now - windowStart >= 1_000_000_000L) {
                windowStart = now;
                controlFrames = 0;
            }
            if (++controlFrames > maxControlFramesPerSecond) {
                LOG.warn("{} more than {} PING/SETTINGS frames per second: closing the HTTP/2 connection",
                        ctx.channel().id().asShortText(), maxControlFramesPerSecond);
                draining = true;
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (codec.connection().numActiveStreams() == 0) {
                ctx.close(); // the codec sends GOAWAY first
            }
            return; // streams have idle timers of their own
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception) {
            // The codec shows its protocol errors here first, then sends GOAWAY with their code and closes;
            // closing here would send a GOAWAY NO_ERROR ahead of it.
            LOG.debug("{} HTTP/2 protocol error: {}", ctx.channel().id().asShortText(), cause.getMessage());
            return;
        }
        LOG.debug("{} HTTP/2 connection error", ctx.channel().id().asShortText(), cause);
        ctx.close();
    }
}
