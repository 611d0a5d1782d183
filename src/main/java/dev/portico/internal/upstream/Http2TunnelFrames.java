package dev.portico.internal.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The stage of an HTTP/2 stream that became a WebSocket tunnel (RFC 8441): in place of the HTTP codec, DATA frames
 * become plain buffers for the tunnel's end and buffers become DATA frames. END_STREAM, on DATA or on a trailing
 * HEADERS frame, is the peer's FIN (section 5): a {@link ChannelInputShutdownEvent} follows the last bytes. Used on
 * a backend's stream after an extended CONNECT Portico sent it (see {@link UpstreamConnection#switchProtocols}); a
 * client's stream on the HTTP/2 frontend is no channel but state on its connection, and does the same in frames.
 */
public final class Http2TunnelFrames extends ChannelDuplexHandler {
    /**
     * Takes a stream out of HTTP: the tunnel's end replaces the stream handler, this stage the HTTP codec, and the
     * stream's HTTP idle timer goes (the tunnel has its own). DATA read before the switch reaches the tunnel's end
     * first, in order.
     *
     * @param ctx the stream handler's context
     * @param tunnelEnd the tunnel's end for this stream
     * @param early the request's DATA read before the backend's answer, or {@code null}; emptied here
     * @return whether the client ended its stream before the switch, so the tunnel cannot be opened
     */
    public static boolean install(ChannelHandlerContext ctx, ChannelHandler tunnelEnd, ArrayDeque<HttpContent> early) {
        ChannelPipeline p = ctx.pipeline();
        p.replace(ctx.handler(), "tunnel", tunnelEnd);
        p.remove(IdleTimer.class);
        Http2TunnelFrames frames = new Http2TunnelFrames();
        p.replace(Http2StreamFrameToHttpObjectCodec.class, "tunnel-frames", frames);
        ChannelHandlerContext from = p.context(frames);
        return handOver(early, from::fireChannelRead);
    }

    /**
     * Hands a stream's DATA read before a tunnel opened to the tunnel's end, which keeps it until the tunnel starts.
     *
     * @param early the request's DATA read before the backend's answer, or {@code null}; emptied here
     * @param end the tunnel's end, given each part's bytes in order (it owns them)
     * @return whether the client ended its stream among them, so the tunnel cannot be opened
     */
    public static boolean handOver(ArrayDeque<HttpContent> early, Consumer<ByteBuf> end) {
        boolean ended = false;
        HttpContent part;
        while (early != null && (part = early.poll()) != null) {
            ended |= part instanceof LastHttpContent;
            if (part.content().isReadable() && !ended) {
                end.accept(part.content());
            } else {
                part.release();
            }
        }
        return ended;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame data) {
            boolean end = data.isEndStream();
            ByteBuf bytes = data.content();
            if (bytes.isReadable()) {
                ctx.fireChannelRead(bytes);
            } else {
                bytes.release();
            }
            if (end) {
                ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
            return;
        }
        boolean end = msg instanceof Http2HeadersFrame headers && headers.isEndStream();
        ReferenceCountUtil.release(msg); // trailers and other frames carry nothing for the tunnel
        if (end) {
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg instanceof ByteBuf bytes ? new DefaultHttp2DataFrame(bytes) : msg, promise);
    }
}
