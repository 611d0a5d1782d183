package dev.portico.grpc;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A gRPC backend that speaks HTTP/1.1, as a gRPC server behind an HTTP/1.1-only hop would: each request (aggregated:
 * test requests are small) is recorded and answered by a script with a streamed gRPC response whose status is in
 * chunked trailers, a trailers-only head, or nothing at all.
 */
final class GrpcH1Backend implements AutoCloseable {
    /** A request as the backend saw it. */
    record Received(String uri, HttpHeaders headers, byte[] body) {
    }

    /** What the backend answers. */
    sealed interface Answer permits Ok, TrailersOnly, Silence {
    }

    /** 200, the messages as gRPC frames, then {@code grpc-status: 0} and the extra trailers as HTTP trailers. */
    record Ok(byte[][] messages, String... trailers) implements Answer {
    }

    /** 200 with {@code grpc-status} and {@code grpc-message} in the head, no body. */
    record TrailersOnly(int status, String message) implements Answer {
    }

    /** No answer at all. */
    record Silence() implements Answer {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();

    GrpcH1Backend(Function<Received, Answer> script) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        Received r = new Received(req.uri(), req.headers().copy(),
                                                ByteBufUtil.getBytes(req.content()));
                                        received.add(r);
                                        answer(ctx, script.apply(r));
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    private static void answer(ChannelHandlerContext ctx, Answer a) {
        if (a instanceof TrailersOnly t) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set("content-type", "application/grpc").set("grpc-status", t.status())
                    .set("grpc-message", t.message()).setInt("content-length", 0);
            ctx.writeAndFlush(r);
        } else if (a instanceof Ok ok) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set("content-type", "application/grpc");
            HttpUtil.setTransferEncodingChunked(head, true);
            ctx.write(head);
            for (byte[] m : ok.messages()) {
                ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(frame(m))));
            }
            LastHttpContent end = new DefaultLastHttpContent();
            end.trailingHeaders().set("grpc-status", "0");
            for (int i = 0; i < ok.trailers().length; i += 2) {
                end.trailingHeaders().add(ok.trailers()[i], ok.trailers()[i + 1]);
            }
            ctx.writeAndFlush(end);
        }
    }

    /** @return a gRPC length-prefixed message: flag 0, 4-byte length, the bytes */
    static byte[] frame(byte[] message) {
        byte[] f = new byte[5 + message.length];
        f[1] = (byte) (message.length >>> 24);
        f[2] = (byte) (message.length >>> 16);
        f[3] = (byte) (message.length >>> 8);
        f[4] = (byte) message.length;
        System.arraycopy(message, 0, f, 5, message.length);
        return f;
    }

    String url() {
        return "http://127.0.0.1:" + ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    Received take() throws InterruptedException {
        Received r = received.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("the backend received no request");
        }
        return r;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
