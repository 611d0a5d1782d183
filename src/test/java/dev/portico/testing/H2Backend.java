package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/2 backend from Netty's server codec: h2c by prior knowledge, or TLS with ALPN (offering {@code h2}, or,
 * for an "HTTP/1.1 only" backend, {@code http/1.1} served by Netty's HTTP/1.1 codec). By path: {@code /stream?bytes=N}
 * streams N bytes as the stream's window allows, {@code /trailers} answers with trailers, {@code /hold} answers only
 * when {@link #releaseHeld} is called, anything else echoes "METHOD URI" and the request body's length. It records
 * what it received, counts connections and concurrent streams, and can refuse streams or send GOAWAY.
 */
public final class H2Backend implements AutoCloseable {
    /** A request as the backend saw it. */
    public record Received(String method, String uri, HttpHeaders headers, long bodyBytes, HttpHeaders trailers,
                           String protocol) {
    }

    private static final ByteBuf CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(16 * 1024).writeZero(16 * 1024)).asReadOnly();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final List<Channel> connections = new CopyOnWriteArrayList<>();
    private final List<Channel> held = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger receivedCount = new AtomicInteger();
    private final AtomicInteger concurrent = new AtomicInteger();
    private final AtomicInteger mostConcurrent = new AtomicInteger();
    private final AtomicInteger refuse = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicLong written = new AtomicLong();
    private final java.util.Set<Channel> hung = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private H2Backend(SslContext tls, boolean http1Only, long maxStreams) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                        connections.add(ch);
                        ch.closeFuture().addListener(f -> connections.remove(ch));
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        if (http1Only) {
                            ch.pipeline().addLast(new HttpServerCodec(), new Stream("http/1.1"));
                            return;
                        }
                        Http2Settings settings = Http2Settings.defaultSettings();
                        if (maxStreams > 0) {
                            settings.maxConcurrentStreams(maxStreams);
                        }
                        ch.pipeline().addLast(new PingGate(), Http2FrameCodecBuilder.forServer()
                                .initialSettings(settings).autoAckPingFrame(true).build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel s) {
                                        s.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                                new Stream("h2"));
                                    }
                                }));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /** @return an h2c backend (prior knowledge), with no stream limit of its own */
    public static H2Backend h2c() throws InterruptedException {
        return new H2Backend(null, false, 0);
    }

    /** @return an h2c backend whose SETTINGS_MAX_CONCURRENT_STREAMS is {@code maxStreams} */
    public static H2Backend h2c(long maxStreams) throws InterruptedException {
        return new H2Backend(null, false, maxStreams);
    }

    /**
     * @param tls the server context; its ALPN offers {@code h2}, or {@code http/1.1} only (with {@code http1Only})
     * @param http1Only whether the backend speaks HTTP/1.1 instead
     * @return a TLS backend
     */
    public static H2Backend tls(SslContext tls, boolean http1Only) throws InterruptedException {
        return new H2Backend(tls, http1Only, 0);
    }

    public int port() {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    public String url(String scheme) {
        return scheme + "://127.0.0.1:" + port();
    }

    public Received take() throws InterruptedException {
        Received r = received.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("the backend received no request");
        }
        return r;
    }

    /** @return requests received so far (those not taken out with {@link #take} included) */
    public int receivedCount() {
        return receivedCount.get();
    }

    /** @return connections accepted so far */
    public int accepted() {
        return accepted.get();
    }

    public int mostConcurrent() {
        return mostConcurrent.get();
    }

    public int concurrent() {
        return concurrent.get();
    }

    public int held() {
        return held.size();
    }

    public int cancelled() {
        return cancelled.get();
    }

    public long written() {
        return written.get();
    }

    /** The next {@code n} streams are answered with RST_STREAM(REFUSED_STREAM). */
    public void refuseNext(int n) {
        refuse.set(n);
    }

    /** The connections open now read nothing more, PINGs included: they hang without closing. */
    public void hangOpenConnections() {
        hung.addAll(connections);
    }

    /** @return connections open now */
    public int open() {
        return connections.size();
    }

    /**
     * Answers every held request with 200 "held". Each is taken out of the list before it is answered, so a request
     * held while this runs (on the backend's event loop) stays held for the next call instead of being dropped.
     */
    public void releaseHeld() {
        for (Channel s : held) {
            if (held.remove(s)) {
                s.eventLoop().execute(() -> respond(s, "held\n", null));
            }
        }
    }

    /**
     * Sends GOAWAY on every connection naming {@code lastStreamId} (-1: the last stream the backend saw, a graceful
     * one): streams above it were not processed, and the client must send them again elsewhere.
     */
    public void goAway(int lastStreamId) {
        for (Channel c : connections) {
            c.eventLoop().execute(() -> {
                Http2FrameCodec codec = c.pipeline().get(Http2FrameCodec.class);
                int last = lastStreamId >= 0 ? lastStreamId : codec.connection().remote().lastStreamCreated();
                ChannelHandlerContext ctx = c.pipeline().context(codec);
                codec.goAway(ctx, last, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, ctx.newPromise());
                ctx.flush();
            });
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void respond(Channel s, String body, Map<String, String> trailers) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        if (trailers == null) {
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.getBytes(StandardCharsets.UTF_8).length);
        } else {
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        }
        s.write(head);
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        if (trailers != null) {
            trailers.forEach(last.trailingHeaders()::set);
        }
        s.writeAndFlush(last).addListener(f -> streamDone(s));
    }

    private static final io.netty.util.AttributeKey<Boolean> DONE = io.netty.util.AttributeKey.valueOf("h2b-done");

    private void streamDone(Channel s) {
        if (s instanceof Http2StreamChannel && s.attr(DONE).setIfAbsent(Boolean.TRUE) == null) {
            concurrent.decrementAndGet();
        }
    }

    /** Drops PINGs (before the codec sees them) once told to. */
    private final class PingGate extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // The codec is after this stage: raw bytes pass; pings are filtered by not reading at all.
            if (hung.contains(ctx.channel())) {
                ReferenceCountUtil.release(msg);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** One request: on an h2 stream, or each request of an HTTP/1.1 connection. */
    private final class Stream extends ChannelInboundHandlerAdapter {
        private final String protocol;
        private HttpRequest request;
        private long bodyBytes;
        private boolean counted;

        Stream(String protocol) {
            this.protocol = protocol;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest r) {
                    request = r;
                    bodyBytes = 0;
                    if (refuse.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
                        request = null;
                        return;
                    }
                    counted = protocol.equals("h2"); // an HTTP/1.1 connection's requests are not streams
                    if (counted) {
                        mostConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                    }
                }
                if (msg instanceof HttpContent c && request != null) {
                    bodyBytes += c.content().readableBytes();
                    if (c instanceof LastHttpContent last) {
                        HttpHeaders trailers = new DefaultHttpHeaders().add(last.trailingHeaders());
                        receivedCount.incrementAndGet();
                        received.add(new Received(request.method().name(), request.uri(), request.headers(),
                                bodyBytes, trailers, protocol));
                        answer(ctx, request);
                        request = null;
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void answer(ChannelHandlerContext ctx, HttpRequest r) {
            QueryStringDecoder q = new QueryStringDecoder(r.uri());
            switch (q.path()) {
                case "/hold" -> held.add(ctx.channel());
                case "/trailers" -> respond(ctx.channel(), "with trailers\n", Map.of("grpc-status", "0",
                        "x-custom", "yes"));
                case "/stream" -> stream(ctx, Long.parseLong(q.parameters().get("bytes").get(0)));
                default -> respond(ctx.channel(), r.method() + " " + r.uri() + " " + bodyBytes + "\n", null);
            }
        }

        private void stream(ChannelHandlerContext ctx, long bytes) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes);
            ctx.write(head);
            long[] left = {bytes};
            Runnable[] more = new Runnable[1];
            more[0] = () -> {
                while (left[0] > 0 && ctx.channel().isWritable()) {
                    int n = (int) Math.min(CHUNK.readableBytes(), left[0]);
                    left[0] -= n;
                    written.addAndGet(n);
                    ctx.write(new DefaultHttpContent(CHUNK.retainedSlice(0, n)));
                }
                if (left[0] == 0) {
                    left[0] = -1;
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(f -> streamDone(ctx.channel()));
                } else {
                    ctx.flush();
                }
            };
            writer = more[0];
            more[0].run();
        }

        private Runnable writer;

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (writer != null && ctx.channel().isWritable()) {
                writer.run();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            held.remove(ctx.channel());
            if (counted && ctx.channel().attr(DONE).setIfAbsent(Boolean.TRUE) == null) {
                cancelled.incrementAndGet(); // gone before its answer ended
                concurrent.decrementAndGet();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
