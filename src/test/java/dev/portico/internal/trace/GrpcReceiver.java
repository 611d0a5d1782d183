package dev.portico.internal.trace;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An OTLP/gRPC collector for tests: h2c on 127.0.0.1 and port 0 (Netty's HTTP/2 codec), which takes
 * {@code TraceService/Export} calls, decodes their spans and answers {@code grpc-status: 0}.
 */
final class GrpcReceiver implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Span> spans = new CopyOnWriteArrayList<>();
    private final List<String> paths = new CopyOnWriteArrayList<>();

    GrpcReceiver() {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel s) {
                                        s.pipeline().addLast(new Call());
                                    }
                                }));
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    /** One call: the request's head and length-prefixed message, then the answer and its trailers. */
    private final class Call extends ChannelInboundHandlerAdapter {
        private final ByteBuf body = Unpooled.buffer();
        private boolean answered;

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (!answered) {
                body.release(); // a call reset or cut before its end
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    paths.add(String.valueOf(h.headers().path()));
                } else if (msg instanceof Http2DataFrame d) {
                    body.writeBytes(d.content());
                    if (d.isEndStream()) {
                        answer(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void answer(ChannelHandlerContext ctx) {
            answered = true;
            try {
                byte[] message = ByteBufUtil.getBytes(body, 5, body.readableBytes() - 5);
                for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(message).getResourceSpansList()) {
                    for (ScopeSpans ss : rs.getScopeSpansList()) {
                        spans.addAll(ss.getSpansList());
                    }
                }
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            } finally {
                body.release();
            }
            byte[] reply = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            ByteBuf out = Unpooled.buffer().writeByte(0).writeInt(reply.length).writeBytes(reply);
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                    .set("content-type", "application/grpc")));
            ctx.write(new DefaultHttp2DataFrame(out));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true));
        }
    }

    /** @return the OTLP/gRPC endpoint to configure */
    String endpoint() {
        return "grpc://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    List<Span> spans() {
        return new ArrayList<>(spans);
    }

    /** @return the request paths of the calls received */
    List<String> paths() {
        return new ArrayList<>(paths);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
