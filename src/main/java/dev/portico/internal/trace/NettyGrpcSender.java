package dev.portico.internal.trace;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderConfig;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * OTLP/gRPC without grpc-java or OkHttp: the SDK's gRPC exporter marshals the spans, and this sender carries each
 * call over one HTTP/2 connection made with Netty's codec (already Portico's), on a thread of its own, never on
 * the proxy's event loops. A call is a POST of the length-prefixed message; its trailers' {@code grpc-status}
 * decides. Reconnects when the connection is gone; no retries of its own (a failed export is a counted drop).
 */
final class NettyGrpcSender implements GrpcSender {
    /** Gives the exporter this sender, whatever else the class path holds. */
    static final ComponentLoader LOADER = new ComponentLoader() {
        @Override
        @SuppressWarnings("unchecked")
        public <T> Iterable<T> load(Class<T> spi) {
            return spi == GrpcSenderProvider.class ? List.of((T) (GrpcSenderProvider) NettyGrpcSender::new)
                    : ComponentLoader.forClassLoader(NettyGrpcSender.class.getClassLoader()).load(spi);
        }
    };

    private final GrpcSenderConfig config;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new DefaultThreadFactory("portico-otlp-grpc", true), NioIoHandler.newFactory());
    private final Bootstrap bootstrap;
    private final String authority;
    private final String scheme;
    /** The HTTP/2 connection; touched on the sender's one thread only. */
    private ChannelFuture connection;

    NettyGrpcSender(GrpcSenderConfig config) {
        this.config = config;
        URI e = config.getEndpoint();
        boolean tls = "https".equalsIgnoreCase(e.getScheme());
        int port = e.getPort() > 0 ? e.getPort() : tls ? 443 : 80;
        this.scheme = tls ? "https" : "http";
        this.authority = e.getHost() + ":" + port;
        SslContext ssl = tls ? sslContext() : null;
        this.bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        config.getConnectTimeout().toMillis()))
                .remoteAddress(e.getHost(), port)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), e.getHost(), port));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                });
    }

    private static SslContext sslContext() {
        try {
            return SslContextBuilder.forClient().applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2)).build();
        } catch (SSLException e) {
            throw new IllegalStateException("no TLS for the OTLP/gRPC exporter: " + e.getMessage(), e);
        }
    }

    @Override
    public void send(MessageWriter writer, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        ByteBuf message = Unpooled.buffer(5 + writer.getContentLength());
        try {
            message.writeByte(0).writeInt(writer.getContentLength()); // not compressed, then the length
            writer.writeMessage(new ByteBufOutputStream(message));
        } catch (IOException | RuntimeException e) {
            message.release();
            onError.accept(e);
            return;
        }
        group.next().execute(() -> call(message, onResponse, onError));
    }

    private void call(ByteBuf message, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
        if (connection == null || (connection.isDone() && !connection.channel().isActive())) {
            connection = bootstrap.connect();
        }
        connection.addListener(c -> {
            if (!c.isSuccess()) {
                message.release();
                connection = null;
                onError.accept(c.cause());
                return;
            }
            GrpcStream stream = new GrpcStream(onResponse, onError);
            new Http2StreamChannelBootstrap(connection.channel()).handler(stream).open().addListener(o -> {
                if (!o.isSuccess()) {
                    message.release();
                    onError.accept(o.cause());
                    return;
                }
                Channel ch = (Channel) o.getNow();
                ch.write(new DefaultHttp2HeadersFrame(headers()));
                ch.writeAndFlush(new DefaultHttp2DataFrame(message, true));
                ChannelHandlerContext ctx = ch.pipeline().context(stream);
                var deadline = ch.eventLoop().schedule(() -> stream.timedOut(ctx),
                        config.getTimeout().toMillis(), TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(x -> deadline.cancel(false));
            });
        });
    }

    private Http2Headers headers() {
        Http2Headers h = new DefaultHttp2Headers().method("POST").scheme(scheme).authority(authority)
                .path("/" + config.getFullMethodName());
        h.set("content-type", "application/grpc");
        h.set("te", "trailers");
        h.set("grpc-timeout", config.getTimeout().toMillis() + "m");
        Map<String, List<String>> extra = config.getHeadersSupplier() == null ? null
                : config.getHeadersSupplier().get();
        if (extra != null) {
            extra.forEach((k, vs) -> vs.forEach(v -> h.add(k.toLowerCase(java.util.Locale.ROOT), v)));
        }
        return h;
    }

    @Override
    public CompletableResultCode shutdown() {
        CompletableResultCode done = new CompletableResultCode();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> done.succeed());
        return done;
    }
}
