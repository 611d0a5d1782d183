package dev.portico;

import dev.portico.config.AccessLogConfig;
import dev.portico.internal.demo.DemoBackend;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --warmup}: before Portico listens, a proxy of its own on loopback (one event loop, no access log) in front
 * of a backend of its own is loaded for a while, so the JIT compiles the code every request runs (decoding,
 * routing, the backend pool, the exchange, encoding) before the first client comes. The compiled code belongs to
 * the classes, not to that proxy, so the real one starts with it. Nothing is sent anywhere but 127.0.0.1, and the
 * backends of the configuration are never contacted.
 */
final class Warmup {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    private static final int CLIENTS = 8;

    private Warmup() {
    }

    /**
     * Runs the warm-up for about {@code duration}; a failure is logged and ends it early, never the start.
     *
     * @param duration how long to load the loopback proxy
     */
    static void run(Duration duration) {
        long started = System.nanoTime();
        AtomicLong requests = new AtomicLong();
        try (AutoCloseable quiet = LogConfigurator.quiet();
             DemoBackend backend = DemoBackend.start("warmup", "127.0.0.1", 0);
             ProxyServer proxy = ProxyServer.builder().listen("127.0.0.1", 0).workers(1)
                     .accessLog(new AccessLogConfig(false))
                     .timeouts(t -> t.drainDelay(Duration.ZERO).drain(Duration.ofMillis(200)))
                     .limits(l -> l.maxRequestsPerConnection(0)) // the clients' connections last the whole time
                     .route("/", r -> r.upstream("http://127.0.0.1:" + backend.port()))
                     .build().start()) {
            load(proxy.port(), started + duration.toNanos(), requests);
        } catch (Exception e) {
            LOG.warn("warm-up ended early: {}", e.toString());
        }
        LOG.info("warm-up: {} requests through a loopback proxy in {} ms", requests.get(),
                (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * {@link #CLIENTS} keep-alive connections, each sending its next request when the last response ended (every
     * eighth a POST with a body), until the deadline. A Netty client: its codec is the one the proxy uses, and it
     * costs little next to the JDK's client, so the loopback proxy gets most of the core.
     */
    private static void load(int port, long deadline, AtomicLong requests) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("portico-warmup"),
                NioIoHandler.newFactory());
        CountDownLatch done = new CountDownLatch(CLIENTS);
        try {
            Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16),
                                    new Client(deadline, requests, done));
                        }
                    });
            for (int i = 0; i < CLIENTS; i++) {
                b.connect("127.0.0.1", port).addListener(f -> {
                    if (!f.isSuccess()) {
                        done.countDown();
                    }
                });
            }
            done.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())) + 5_000,
                    TimeUnit.MILLISECONDS);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    /** One connection's requests, one at a time. */
    private static final class Client extends SimpleChannelInboundHandler<FullHttpResponse> {
        private static final byte[] BODY = new byte[1024];
        private final long deadline;
        private final AtomicLong requests;
        private final CountDownLatch done;
        private long sent;

        Client(long deadline, AtomicLong requests, CountDownLatch done) {
            this.deadline = deadline;
            this.requests = requests;
            this.done = done;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            next(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            if (response.status().code() != 200) {
                ctx.close(); // the loopback proxy did not proxy: nothing to warm with this connection
                return;
            }
            requests.incrementAndGet();
            if (System.nanoTime() < deadline) {
                next(ctx);
            } else {
                ctx.close();
            }
        }

        private void next(ChannelHandlerContext ctx) {
            FullHttpRequest r = sent++ % 8 == 7
                    ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/warmup",
                            Unpooled.wrappedBuffer(BODY))
                    : new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/warmup");
            r.headers().set(HttpHeaderNames.HOST, "127.0.0.1").set(HttpHeaderNames.USER_AGENT, "portico-warmup")
                    .set(HttpHeaderNames.ACCEPT, "*/*");
            HttpUtil.setContentLength(r, r.content().readableBytes());
            ctx.writeAndFlush(r);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.countDown();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
