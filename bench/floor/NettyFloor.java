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
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.File;
import javax.net.ssl.SSLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor under bench/floor.sh: the least an HTTP/1.1 reverse proxy built on Netty's codecs does per request. One
 * epoll event loop; each client request goes, as Netty decoded it and without any change to its fields, to a
 * pooled keep-alive connection to the backend, and the response comes back the same way. No routing, header
 * rewriting, limits, timeouts, backpressure, metrics or logging: what is left is Netty's HTTP codecs, pipeline and
 * buffers, and the JVM. Not a proxy to run anywhere else; it exists to measure that floor beside Portico and nginx.
 *
 * <p>Usage: {@code java -cp portico.jar:CLASSES NettyFloor PORT BACKEND_PORT [CERT KEY]}; with a certificate and
 * its key, the clients' connections are TLS (OpenSSL, TLS 1.3 and 1.2, as Portico's listeners are by default).
 * Prints "listening on" once bound.
 */
public final class NettyFloor {
    private NettyFloor() {
    }

    public static void main(String[] args) throws InterruptedException, SSLException {
        int port = Integer.parseInt(args[0]);
        int backendPort = Integer.parseInt(args[1]);
        SslContext tls = args.length < 4 ? null : SslContextBuilder.forServer(new File(args[2]), new File(args[3]))
                .sslProvider(SslProvider.OPENSSL).protocols("TLSv1.3", "TLSv1.2").build();
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
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new Client(backend));
                    }
                })
                .bind("127.0.0.1", port).sync();
        System.err.println("listening on 127.0.0.1:" + port);
    }

    /** Idle keep-alive backend connections; touched on the one event loop only. */
    private static final ArrayDeque<Channel> IDLE = new ArrayDeque<>();

    /** A client connection: its current request's parts go to one backend connection. */
    private static final class Client extends ChannelInboundHandlerAdapter {
        private final Bootstrap backend;
        private Channel upstream;
        private Backend upstreamHandler;
        /** The request's parts read while its backend connection was being opened. */
        private List<Object> pending;

        Client(Bootstrap backend) {
            this.backend = backend;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                Channel idle = IDLE.poll();
                while (idle != null && !idle.isActive()) {
                    idle = IDLE.poll();
                }
                if (idle != null) {
                    attach(ctx.channel(), idle);
                } else {
                    pending = new ArrayList<>();
                    ChannelFuture connect = backend.connect();
                    connect.addListener(f -> {
                        List<Object> parts = pending;
                        pending = null;
                        if (!f.isSuccess() || parts == null) { // failed, or the client left meanwhile
                            if (parts != null) {
                                parts.forEach(ReferenceCountUtil::release);
                            }
                            connect.channel().close();
                            ctx.close();
                            return;
                        }
                        attach(ctx.channel(), connect.channel());
                        parts.forEach(this::forward);
                    });
                }
            }
            if (pending != null) {
                pending.add(msg);
            } else {
                forward(msg);
            }
        }

        private void attach(Channel client, Channel to) {
            upstream = to;
            upstreamHandler = to.pipeline().get(Backend.class);
            upstreamHandler.client = client;
        }

        private void forward(Object msg) {
            if (msg instanceof LastHttpContent) {
                upstream.writeAndFlush(msg, upstream.voidPromise());
            } else {
                upstream.write(msg, upstream.voidPromise());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.forEach(ReferenceCountUtil::release);
                pending = null;
            }
            if (upstream != null && upstreamHandler.client == ctx.channel()) {
                upstream.close(); // in the middle of an exchange
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** A backend connection: the response goes to the client it serves, then the connection goes back to the pool. */
    private static final class Backend extends ChannelInboundHandlerAdapter {
        private Channel client;
        private boolean keepAlive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel to = client;
            if (to == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof io.netty.handler.codec.http.HttpResponse r) {
                keepAlive = HttpUtil.isKeepAlive(r);
            }
            if (msg instanceof LastHttpContent) {
                to.writeAndFlush(msg, to.voidPromise());
                client = null;
                if (keepAlive) {
                    IDLE.push(ctx.channel());
                } else {
                    ctx.close();
                }
            } else {
                to.write((HttpObject) msg, to.voidPromise());
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            IDLE.remove(ctx.channel());
            if (client != null) {
                client.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
