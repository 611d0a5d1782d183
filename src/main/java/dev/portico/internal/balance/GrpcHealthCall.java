package dev.portico.internal.balance;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * One call of the gRPC health protocol, {@code grpc.health.v1.Health/Check}, on a stream of a check connection of
 * its own (set up as {@link Http2Check} sets up HTTP/2 checks: a check needs one stream, not the pool). The request and response messages are
 * encoded by hand, as they have one field each: {@code HealthCheckRequest.service} (field 1, string) and
 * {@code HealthCheckResponse.status} (field 1, enum; 1 is SERVING). The call passes when the response is 200 with
 * {@code grpc-status: 0} and SERVING; anything else fails it. Runs on the checker's event loop.
 */
final class GrpcHealthCall extends ChannelInboundHandlerAdapter {
    /** Where the outcome goes: the first one counts. */
    interface Outcome {
        void done(Channel connection, boolean pass, String why);
    }

    static final String PATH = "/grpc.health.v1.Health/Check";
    private static final int SERVING = 1;
    /** Bounds the response message a check reads: a health answer is a few bytes. */
    private static final int MAX_MESSAGE = 1024;

    private final Channel connection;
    private final Outcome outcome;
    private ByteBuf message = Unpooled.EMPTY_BUFFER;
    private String grpcStatus;
    private int httpStatus;

    private GrpcHealthCall(Channel connection, Outcome outcome) {
        this.connection = connection;
        this.outcome = outcome;
    }

    /**
     * Opens the stream and sends the call on a connected check connection.
     *
     * @param connection the connection, with {@link Http2Check#addCodec}'s stages
     * @param authority the {@code :authority}
     * @param https whether the connection is TLS
     * @param service the service asked about
     * @param outcome gets the result
     */
    static void start(Channel connection, String authority, boolean https, String service, Outcome outcome) {
        GrpcHealthCall call = new GrpcHealthCall(connection, outcome);
        new Http2StreamChannelBootstrap(connection).handler(call).open().addListener(f -> {
            if (!f.isSuccess()) {
                outcome.done(connection, false, "no HTTP/2 stream: " + f.cause());
                return;
            }
            Channel stream = (Channel) f.getNow();
            Http2Headers h = new DefaultHttp2Headers().method("POST").scheme(https ? "https" : "http").path(PATH)
                    .authority(authority);
            h.set("content-type", "application/grpc").set("te", "trailers")
                    .set("user-agent", "portico-health-check");
            stream.write(new DefaultHttp2HeadersFrame(h, false));
            stream.writeAndFlush(new DefaultHttp2DataFrame(request(service), true));
        });
    }

    /** @return the length-prefixed HealthCheckRequest: field 1 (tag 0x0A), its length as a varint, the name */
    static ByteBuf request(String service) {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        ByteBuf m = Unpooled.buffer();
        if (name.length > 0) {
            m.writeByte(0x0A);
            for (int n = name.length; ; n >>>= 7) {
                if (n < 0x80) {
                    m.writeByte(n);
                    break;
                }
                m.writeByte(n & 0x7F | 0x80);
            }
            m.writeBytes(name);
        }
        ByteBuf frame = Unpooled.buffer(5 + m.readableBytes());
        frame.writeByte(0).writeInt(m.readableBytes()).writeBytes(m);
        m.release();
        return frame;
    }

    /**
     * @param frame the length-prefixed response message
     * @return the {@code status} field of a HealthCheckResponse, or -1 if the message cannot be read
     */
    static int status(ByteBuf frame) {
        if (frame.readableBytes() < 5 || frame.getByte(frame.readerIndex()) != 0
                || frame.getInt(frame.readerIndex() + 1) != frame.readableBytes() - 5) {
            return -1; // compressed or cut short: a health server sends neither
        }
        ByteBuf in = frame.slice(frame.readerIndex() + 5, frame.readableBytes() - 5);
        int status = 0; // proto3: an absent enum is its zero value, UNKNOWN
        while (in.isReadable()) {
            long tag = varint(in);
            if (tag < 0) {
                return -1;
            }
            int type = (int) (tag & 7);
            long value = type == 0 ? varint(in) : type == 2 ? varint(in) : type == 5 ? 4 : type == 1 ? 8 : -1;
            if (value < 0) {
                return -1;
            }
            if (type == 0) {
                if (tag >>> 3 == 1) {
                    status = (int) value;
                }
            } else if (value > in.readableBytes()) {
                return -1;
            } else {
                in.skipBytes((int) value);
            }
        }
        return status;
    }

    private static long varint(ByteBuf in) {
        long v = 0;
        for (int shift = 0; shift < 64 && in.isReadable(); shift += 7) {
            byte b = in.readByte();
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        return -1;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame f) {
                CharSequence st = f.headers().status();
                if (st != null) {
                    httpStatus = Integer.parseInt(st.toString());
                }
                CharSequence gs = f.headers().get("grpc-status");
                if (gs != null) {
                    grpcStatus = gs.toString();
                }
                if (f.isEndStream()) {
                    finish();
                }
            } else if (msg instanceof Http2DataFrame d) {
                if (message.readableBytes() + d.content().readableBytes() > MAX_MESSAGE) {
                    outcome.done(connection, false, "health answer over " + MAX_MESSAGE + " bytes");
                    return;
                }
                message = Unpooled.wrappedBuffer(message, d.content().retain());
                if (d.isEndStream()) {
                    finish();
                }
            }
        } catch (NumberFormatException e) {
            outcome.done(connection, false, "malformed :status");
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void finish() {
        if (httpStatus != 200) {
            outcome.done(connection, false, "HTTP status " + httpStatus);
        } else if (!"0".equals(grpcStatus)) {
            outcome.done(connection, false, "grpc-status " + grpcStatus);
        } else {
            int status = status(message);
            outcome.done(connection, status == SERVING, status == SERVING ? "SERVING"
                    : status < 0 ? "unreadable health answer" : "status " + status + " (not SERVING)");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        message.release();
        message = Unpooled.EMPTY_BUFFER;
        outcome.done(connection, false, "stream closed before the answer ended");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        outcome.done(connection, false, String.valueOf(cause.getMessage()));
    }
}
