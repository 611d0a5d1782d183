package dev.portico.internal.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Sends a bodiless message on an HTTP/2 stream as one HEADERS frame with END_STREAM instead of HEADERS and an empty
 * DATA frame; a stage of HTTP/2 stream channels, after Netty's {@code Http2StreamFrameToHttpObjectCodec}. Exchanges
 * write a head and then the end, as HTTP/1.1 has them. The head waits here until the next write or flush (a
 * request framed as bodiless waits for its end whatever comes first); if that is an empty end without trailers,
 * both leave as one full message. For responses it keeps gRPC's "trailers-only"
 * answer (an error's {@code grpc-status} in the only HEADERS frame) whole, which gRPC clients require. For requests
 * it spares a backend the empty DATA frame: a server that refuses the stream after its GOAWAY may take a DATA frame
 * on it for a connection error. It holds no buffer.
 */
public final class Http2HeadCoalescer extends ChannelOutboundHandlerAdapter {
    private HttpMessage held;
    private ChannelPromise heldPromise;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (held != null) {
            HttpMessage head = held;
            ChannelPromise headPromise = heldPromise;
            held = null;
            heldPromise = null;
            if (msg instanceof LastHttpContent last && !(msg instanceof HttpMessage)
                    && !last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                writeFull(ctx, full(head), headPromise, promise);
                return;
            }
            ctx.write(head, headPromise);
        }
        if (msg instanceof HttpMessage m && !(msg instanceof FullHttpMessage)
                && !(msg instanceof HttpResponse r && r.status().code() < 200)) {
            held = m;
            heldPromise = promise;
            return;
        }
        ctx.write(msg, promise);
    }

    /** A request framed as bodiless: {@code Content-Length: 0}, or neither a length nor chunked coding. */
    private static boolean announcesNoBody(HttpRequest r) {
        String length = r.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        return length != null ? length.equals("0") : !HttpUtil.isTransferEncodingChunked(r);
    }

    private static FullHttpMessage full(HttpMessage head) {
        if (head instanceof HttpRequest r) {
            return new DefaultFullHttpRequest(r.protocolVersion(), r.method(), r.uri(), Unpooled.EMPTY_BUFFER,
                    r.headers(), EmptyHttpHeaders.INSTANCE);
        }
        HttpResponse r = (HttpResponse) head;
        return new DefaultFullHttpResponse(r.protocolVersion(), r.status(), Unpooled.EMPTY_BUFFER, r.headers(),
                EmptyHttpHeaders.INSTANCE);
    }

    private static void writeFull(ChannelHandlerContext ctx, FullHttpMessage full, ChannelPromise headPromise,
                                  ChannelPromise endPromise) {
        if (headPromise.isVoid()) {
            ctx.write(full, endPromise);
        } else if (endPromise.isVoid()) {
            ctx.write(full, headPromise);
        } else {
            ctx.write(full, headPromise);
            headPromise.addListener(f -> {
                if (f.isSuccess()) {
                    endPromise.trySuccess();
                } else {
                    endPromise.tryFailure(f.cause());
                }
            });
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (held instanceof HttpRequest r && announcesNoBody(r)) {
            // Its end normally follows in this same task (the exchange writes it as the client's request ends).
            // Should it not, the head leaves once the task is over (on the socket, at the end of the event loop's
            // round, with the connection's other writes), never later: a held head is a request the backend never
            // sees, and its stream stays unwritable, so nothing would ever bring the end.
            ctx.flush();
            HttpMessage head = held;
            ctx.executor().execute(() -> {
                if (held == head) {
                    flush(ctx, head);
                }
            });
            return;
        }
        if (held != null) {
            flush(ctx, held);
        } else {
            ctx.flush();
        }
    }

    private void flush(ChannelHandlerContext ctx, HttpMessage head) {
        held = null;
        ctx.write(head, heldPromise);
        heldPromise = null;
        ctx.flush();
    }
}
