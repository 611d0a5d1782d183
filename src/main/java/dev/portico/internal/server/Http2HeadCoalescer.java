package dev.portico.internal.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Sends a bodiless response on an HTTP/2 stream as one HEADERS frame with END_STREAM, as its backend did, instead
 * of HEADERS and an empty DATA frame. It matters to gRPC: a "trailers-only" answer (an error's {@code grpc-status}
 * in the only HEADERS frame) read as headers followed by an empty body is a protocol error to gRPC clients. The
 * exchange writes the head and then the end; the head waits here until the next write or flush, and if that is an
 * empty end without trailers, both leave as one full response. It holds no buffer.
 */
final class Http2HeadCoalescer extends ChannelOutboundHandlerAdapter {
    private HttpResponse held;
    private ChannelPromise heldPromise;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (held != null) {
            HttpResponse head = held;
            ChannelPromise headPromise = heldPromise;
            held = null;
            heldPromise = null;
            if (msg instanceof LastHttpContent last && !(msg instanceof HttpResponse)
                    && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                FullHttpResponse full = new DefaultFullHttpResponse(head.protocolVersion(), head.status(),
                        Unpooled.EMPTY_BUFFER, head.headers(), EmptyHttpHeaders.INSTANCE);
                if (headPromise.isVoid()) {
                    ctx.write(full, promise);
                } else if (promise.isVoid()) {
                    ctx.write(full, headPromise);
                } else {
                    ctx.write(full, headPromise);
                    headPromise.addListener(f -> {
                        if (f.isSuccess()) {
                            promise.trySuccess();
                        } else {
                            promise.tryFailure(f.cause());
                        }
                    });
                }
                return;
            }
            ctx.write(head, headPromise);
        }
        if (msg instanceof HttpResponse r && !(msg instanceof FullHttpResponse) && r.status().code() >= 200) {
            held = r;
            heldPromise = promise;
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (held != null) {
            HttpResponse head = held;
            held = null;
            ctx.write(head, heldPromise);
            heldPromise = null;
        }
        ctx.flush();
    }
}
