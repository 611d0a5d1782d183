package dev.portico.internal.server;

import dev.portico.config.Http2Config;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.DefaultHttp3GoAwayFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last stage of an HTTP/3 connection ({@link QuicChannel}): the counterpart of {@link Http2ConnectionGuard}.
 * It counts the streams the client reset or made Portico reset (a Rapid-Reset style flood opens streams and
 * cancels them at once, each costing an admission and maybe a backend request) against {@code http2.max_resets}
 * per {@code http2.reset_window}, and closes the connection with H3_EXCESSIVE_LOAD beyond that. It also knows the
 * connection's open request streams, so that a drain (GOAWAY) closes the connection once they are done.
 */
final class Http3ConnectionGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final int maxStreams;
    private final ResetBudget resets;
    private ChannelHandlerContext ctx;
    private boolean clientErrorLogged;
    private boolean closing;
    private boolean draining;
    private int openStreams;
    private long highestStreamId = -4;

    Http3ConnectionGuard(Http2Config config) {
        this.maxStreams = config.maxConcurrentStreams();
        this.resets = new ResetBudget(config);
    }

    /** @return the guard of the HTTP/3 connection a request stream belongs to, or {@code null} */
    static Http3ConnectionGuard of(Channel stream) {
        Channel parent = stream.parent();
        return parent == null ? null : parent.pipeline().get(Http3ConnectionGuard.class);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
    }

    /**
     * A request stream begins; runs on the connection's event loop, as everything here. QUIC's stream credit keeps
     * a client within {@code max_concurrent_streams}, but a stream the client cancels (STOP_SENDING and
     * RESET_STREAM) gives its credit back at once while Netty's QUIC stream does not learn of it: its exchange goes
     * on until it ends or times out. So the streams Portico still serves are counted here too; one beyond the limit
     * is refused (H3_REQUEST_REJECTED) and counted as a reset, so cancelling streams in a loop (Rapid Reset) ends
     * with the connection closed rather than with an unbounded number of exchanges.
     *
     * @return whether the stream may be served
     */
    boolean admit(QuicStreamChannel stream) {
        if (openStreams >= maxStreams) {
            clientCausedReset();
            return false;
        }
        openStreams++;
        highestStreamId = Math.max(highestStreamId, stream.streamId());
        stream.closeFuture().addListener(f -> streamClosed());
        return true;
    }

    private void streamClosed() {
        openStreams--;
        if (draining && openStreams == 0) {
            ctx.close();
        }
    }

    /** Counts a stream the client reset, or made Portico reset. */
    void clientCausedReset() {
        if (resets.spend() && !closing && ctx != null) {
            closing = true;
            LOG.warn("{} {}: closing the HTTP/3 connection", ctx.channel().id().asShortText(), resets.describe());
            ((QuicChannel) ctx.channel()).close(true, Http3ErrorCode.H3_EXCESSIVE_LOAD.code(),
                    Unpooled.copiedBuffer("too many stream resets", StandardCharsets.US_ASCII));
        }
    }

    /** @return true the first time a client error is seen on this connection: log that one at WARN, others at DEBUG */
    boolean firstClientError() {
        boolean first = !clientErrorLogged;
        clientErrorLogged = true;
        return first;
    }

    /**
     * Graceful close (RFC 9114 section 5.2): a GOAWAY tells the client that no stream after the ones it opened
     * will be served; the connection closes once those are done.
     */
    void drain() {
        if (draining || ctx == null) {
            return;
        }
        draining = true;
        QuicStreamChannel control = Http3.getLocalControlStream(ctx.channel());
        if (control != null && control.isActive()) {
            control.writeAndFlush(new DefaultHttp3GoAwayFrame(highestStreamId + 4)).addListener(f -> {
                if (openStreams == 0) {
                    ctx.close();
                }
            });
        } else if (openStreams == 0) {
            ctx.close();
        }
    }
}
