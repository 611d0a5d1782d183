import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.ReferenceCountUtil;
import java.io.File;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor under bench/floor-h2.sh: the least an HTTP/2-over-TLS reverse proxy built on Netty does per request,
 * in two shapes. One epoll event loop; a TLS listener that speaks h2 only (OpenSSL, ALPN); each stream's request
 * goes, as Netty converted it, to a pooled keep-alive HTTP/1.1 connection to the backend, and the response comes
 * back as HEADERS and DATA frames. Like Portico, flushes to the client are consolidated per event-loop round.
 * <ul>
 *   <li>{@code mux}: Netty's {@code Http2MultiplexHandler}, a child channel per stream with Netty's HTTP/2-to-HTTP
 *       object codec in its pipeline (the shape Portico's HTTP/2 side has);</li>
 *   <li>{@code frames}: one handler on the connection that reads and writes frames itself, no channel per
 *       stream.</li>
 * </ul>
 * No routing, header rewriting, limits, timeouts, flow-control-aware backpressure, request bodies, metrics or
 * logging. Not a proxy to run anywhere else; it exists to measure that floor beside Portico and nginx.
 *
 * <p>Usage: {@code java -cp portico.jar:CLASSES NettyH2Floor mux|frames PORT BACKEND_PORT CERT_PEM KEY_PEM};
 * prints "listening on" once bound.
 */
public final class NettyH2Floor {
    private NettyH2Floor() {
    }

    /** Idle keep-alive backend connections; touched on the one event loop only. */
    private static final ArrayDeque<Channel> IDLE = new ArrayDeque<>();

    public static void main(String[] args) throws Exception {
        // Logback without a configuration logs at DEBUG: Netty's notes on every connection would be measured too.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        boolean frames = switch (args[0]) {
            case "frames" -> true;
            case "mux" -> false;
            default -> throw new IllegalArgumentException("mode: mux or frames, not " + args[0]);
        };
        int port = Integer.parseInt(args[1]);
        int backendPort = Integer.parseInt(args[2]);
        SslContext tls = SslContextBuilder.forServer(new File(args[3]), new File(args[4]))
                .sslProvider(SslProvider.OPENSSL)
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2))
                .build();
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Bootstrap backend = new Bootstrap().group(loop).channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .remoteAddress("127.0.0.1", backendPort)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new Backend());
                    }
                });
        new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()),
                                new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES,
                                        true),
                                Http2FrameCodecBuilder.forServer().build());
                        if (frames) {
                            ch.pipeline().addLast(new Frames(backend));
                        } else {
                            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                @Override
                                protected void initChannel(Http2StreamChannel stream) {
                                    stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                            new StreamClient(backend));
                                }
                            }));
                        }
                    }
                })
                .bind("127.0.0.1", port).sync();
        System.err.println("listening on 127.0.0.1:" + port + " (" + args[0] + ")");
    }

    /** Where a backend connection's response goes. */
    private interface Sink {
        void response(HttpObject part);

        void failed();
    }

    /**
     * Sends a request (its head and, for a bodiless one, the end) on an idle backend connection, or a new one.
     *
     * @param backend the backend's bootstrap
     * @param request the request's parts, the last one a {@link LastHttpContent}
     * @param sink where the response goes
     */
    private static void exchange(Bootstrap backend, List<HttpObject> request, Sink sink) {
        Channel idle = IDLE.poll();
        while (idle != null && !idle.isActive()) {
            idle = IDLE.poll();
        }
        if (idle != null) {
            send(idle, request, sink);
            return;
        }
        ChannelFuture connect = backend.connect();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                request.forEach(ReferenceCountUtil::release);
                sink.failed();
                return;
            }
            send(connect.channel(), request, sink);
        });
    }

    private static void send(Channel upstream, List<HttpObject> request, Sink sink) {
        upstream.pipeline().get(Backend.class).sink = sink;
        for (int i = 0; i < request.size(); i++) {
            if (i == request.size() - 1) {
                upstream.writeAndFlush(request.get(i), upstream.voidPromise());
            } else {
                upstream.write(request.get(i), upstream.voidPromise());
            }
        }
    }

    /** The {@code frames} shape: one handler per connection, each stream's request from its HEADERS frame. */
    private static final class Frames extends ChannelInboundHandlerAdapter {
        private final Bootstrap backend;

        Frames(Bootstrap backend) {
            this.backend = backend;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof Http2HeadersFrame h) {
                Http2FrameStream stream = h.stream();
                if (!h.isEndStream()) { // a request body: not in the floor
                    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM).stream(stream));
                    return;
                }
                HttpRequest request = HttpConversionUtil.toHttpRequest(stream.id(), h.headers(), false);
                exchange(backend, List.of(request, LastHttpContent.EMPTY_LAST_CONTENT), new Sink() {
                    @Override
                    public void response(HttpObject part) {
                        try {
                            if (part instanceof HttpResponse r) {
                                ctx.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(r, false))
                                        .stream(stream), ctx.voidPromise());
                            }
                        } catch (Exception e) {
                            ReferenceCountUtil.release(part);
                            failed();
                            return;
                        }
                        if (part instanceof HttpContent c) {
                            boolean last = c instanceof LastHttpContent;
                            ctx.write(new DefaultHttp2DataFrame(c.content(), last).stream(stream), ctx.voidPromise());
                            if (last) {
                                ctx.flush();
                            }
                        }
                    }

                    @Override
                    public void failed() {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(stream));
                    }
                });
            } else {
                ReferenceCountUtil.release(msg); // DATA of refused streams, and the rest
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The {@code mux} shape: a stream's child channel, its request as HTTP/1.1 objects. */
    private static final class StreamClient extends ChannelInboundHandlerAdapter {
        private final Bootstrap backend;
        private final List<HttpObject> request = new ArrayList<>(2);

        StreamClient(Bootstrap backend) {
            this.backend = backend;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            request.add((HttpObject) msg);
            if (!(msg instanceof LastHttpContent)) {
                return;
            }
            Channel stream = ctx.channel();
            exchange(backend, new ArrayList<>(request), new Sink() {
                @Override
                public void response(HttpObject part) {
                    if (part instanceof LastHttpContent) {
                        stream.writeAndFlush(part, stream.voidPromise());
                    } else {
                        stream.write(part, stream.voidPromise());
                    }
                }

                @Override
                public void failed() {
                    stream.close();
                }
            });
            request.clear();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** A backend connection: the response goes to its sink, then the connection goes back to the pool. */
    private static final class Backend extends ChannelInboundHandlerAdapter {
        private Sink sink;
        private boolean keepAlive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Sink to = sink;
            if (to == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpResponse r) {
                keepAlive = HttpUtil.isKeepAlive(r);
            }
            to.response((HttpObject) msg);
            if (msg instanceof LastHttpContent) {
                sink = null;
                if (keepAlive) {
                    IDLE.push(ctx.channel());
                } else {
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            IDLE.remove(ctx.channel());
            if (sink != null) {
                sink.failed();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
