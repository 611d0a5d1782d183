package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
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
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process HTTP backend on an ephemeral port, scripted per test. Requests are aggregated (up to 16 MiB) and
 * recorded; the script answers through the channel context.
 */
public final class TestBackend implements AutoCloseable {
    /** Answers one request. Runs on the backend's event loop. */
    @FunctionalInterface
    public interface Script {
        void handle(FullHttpRequest request, ChannelHandlerContext ctx);
    }

    /** What the backend received. */
    public record Received(String method, String uri, HttpHeaders headers, String body, String connection) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger mostOpen = new AtomicInteger();
    private volatile Script script;

    private TestBackend(Script script, SslContext tls) {
        this.script = script;
        this.server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                        ch.closeFuture().addListener(f -> open.decrementAndGet());
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 << 20),
                                new Handler());
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    /** @return a backend running {@code script} */
    public static TestBackend start(Script script) {
        return new TestBackend(script, null);
    }

    /** @return an HTTPS backend running {@code script} with the given server context */
    public static TestBackend startTls(SslContext tls, Script script) {
        return new TestBackend(script, tls);
    }

    /** @return a backend answering 200 with a body naming the method, target and body it received */
    public static TestBackend echo() {
        return start((req, ctx) -> ctx.writeAndFlush(text(HttpResponseStatus.OK,
                req.method() + " " + req.uri() + "\n" + req.content().toString(StandardCharsets.UTF_8))));
    }

    /** @return a 200/other response with a text body and Content-Length */
    public static FullHttpResponse text(HttpResponseStatus status, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(b));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
        return r;
    }

    /** Replaces the script for the following requests. */
    public void script(Script newScript) {
        this.script = newScript;
    }

    /** @return {@code http://127.0.0.1:PORT} */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @return the next request received, waiting up to 5 s */
    public Received take() throws InterruptedException {
        Received r = received.poll(5, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("backend received no request within 5 s");
        }
        return r;
    }

    /** @return how many requests are recorded and not yet taken */
    public int pending() {
        return received.size();
    }

    /** @return how many connections the backend accepted */
    public int connections() {
        return connections.get();
    }

    /** @return the most connections the backend had open at once */
    public int mostOpen() {
        return mostOpen.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            received.add(new Received(req.method().name(), req.uri(), req.headers().copy(),
                    req.content().toString(StandardCharsets.UTF_8), ctx.channel().id().asShortText()));
            script.handle(req, ctx);
        }
    }
}
