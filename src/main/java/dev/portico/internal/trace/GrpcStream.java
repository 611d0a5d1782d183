package dev.portico.internal.trace;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * One gRPC call's response on its HTTP/2 stream: the head, the length-prefixed message, and the trailers whose
 * {@code grpc-status} decides. Tells its caller exactly once: the response, or the error that cut it short.
 */
final class GrpcStream extends ChannelInboundHandlerAdapter {
    private final Consumer<GrpcResponse> onResponse;
    private final Consumer<Throwable> onError;
    private final ByteBuf body = Unpooled.buffer();
    private boolean done;

    GrpcStream(Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        this.onResponse = onResponse;
        this.onError = onError;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame h) {
                Http2Headers headers = h.headers();
                CharSequence status = headers.status();
                if (status != null && !status.toString().equals("200")) {
                    fail(ctx, new IOException("the collector answered HTTP " + status));
                    return;
                }
                CharSequence grpc = headers.get("grpc-status");
                if (grpc != null || h.isEndStream()) {
                    CharSequence message = headers.get("grpc-message");
                    finish(ctx, grpc == null ? GrpcStatusCode.UNKNOWN
                            : GrpcStatusCode.fromValue(Integer.parseInt(grpc.toString())),
                            message == null ? null : message.toString());
                }
            } else if (msg instanceof Http2DataFrame d) {
                if (body.readableBytes() + d.content().readableBytes() <= 1 << 20) { // an export's answer is tiny
                    body.writeBytes(d.content());
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new IOException("the collector closed the stream before its status"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    /** The call's deadline passed. */
    void timedOut(ChannelHandlerContext ctx) {
        fail(ctx, new IOException("no answer from the collector in time"));
    }

    private void finish(ChannelHandlerContext ctx, GrpcStatusCode code, String description) {
        if (done) {
            return;
        }
        done = true;
        byte[] message = new byte[Math.max(0, body.readableBytes() - 5)];
        if (message.length > 0) {
            body.getBytes(body.readerIndex() + 5, message); // after the compression flag and the length
        }
        body.release();
        ctx.close();
        onResponse.accept(new GrpcResponse() {
            @Override
            public GrpcStatusCode getStatusCode() {
                return code;
            }

            @Override
            public String getStatusDescription() {
                return description;
            }

            @Override
            public byte[] getResponseMessage() {
                return message;
            }
        });
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        body.release();
        ctx.close();
        onError.accept(cause);
    }
}
