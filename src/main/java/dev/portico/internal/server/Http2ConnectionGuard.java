package dev.portico.internal.server;

import dev.portico.config.Http2Config;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last stage of an HTTP/2 connection: drops the connection-level frames the multiplexer passes on (their flood
 * limit is {@link Http2FrameMeter}'s; its deadlines are {@link Http2Deadlines}'). Its streams report
 * here the resets the client made Portico send (stream errors, requests refused before their end), which count
 * against {@code http2.max_resets} whatever their code, and the client errors, of which one per connection is
 * logged at WARN.
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    /** The widest connection receive window Portico grants: 16 streams' default windows. */
    static final long MAX_CONNECTION_WINDOW = 1L << 20;

    private final int maxConcurrentStreams;
    private final ResetBudget resets;
    private ChannelHandlerContext ctx;
    private boolean clientErrorLogged;
    private boolean draining;

    Http2ConnectionGuard(Http2Config config) {
        this.maxConcurrentStreams = config.maxConcurrentStreams();
        this.resets = new ResetBudget(config);
    }

    /** @return the guard of the HTTP/2 connection a stream belongs to, or {@code null} (not a stream channel) */
    static Http2ConnectionGuard of(Channel stream) {
        Channel parent = stream.parent();
        return parent == null ? null : parent.pipeline().get(Http2ConnectionGuard.class);
    }

    /**
     * Counts a reset the client made Portico send. Netty counts only the resets it sends with an error code, not
     * CANCEL or NO_ERROR, which left a client free to have streams reset for it without limit (MadeYouReset).
     * Runs on the connection's event loop, which its streams share.
     */
    void clientCausedReset() {
        if (resets.spend() && !draining && ctx != null) {
            LOG.warn("{} {} for client errors: closing the HTTP/2 connection", ctx.channel().id().asShortText(),
                    resets.describe());
            goAway(ctx, Http2Error.ENHANCE_YOUR_CALM);
        }
    }

    /** @return true the first time a client error is seen on this connection: log that one at WARN, others at DEBUG */
    boolean firstClientError() {
        boolean first = !clientErrorLogged;
        clientErrorLogged = true;
        return first;
    }

    private void goAway(ChannelHandlerContext context, Http2Error error) {
        draining = true;
        context.writeAndFlush(new DefaultHttp2GoAwayFrame(error)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Widens the connection's receive window from the protocol's 64 KiB to the sum of the stream windows, at most
     * {@link #MAX_CONNECTION_WINDOW}, so a few streams whose backends do not read cannot stall the uploads of the
     * others. The cap matters: DATA for a stream not read yet is held, up to its stream window, and the connection
     * window bounds the sum; 100 streams' windows would let one connection park 6.4 MiB in Portico.
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
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
        ReferenceCountUtil.release(msg); // control frames, counted by Http2FrameMeter
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
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
