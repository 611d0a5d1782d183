package dev.portico.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket client over HTTP/2 (RFC 8441) from Netty's HTTP/2 client codec and WebSocket frame codecs: one
 * connection (h2c with prior knowledge, or TLS when given a context with ALPN {@code h2}), the server's SETTINGS
 * recorded, and streams opened with an extended CONNECT. A {@link Tunnel} gives the response head, then either
 * WebSocket messages (aggregated, as in {@link WebSocketTestClient}) or, in raw mode, a count of DATA bytes.
 */
public final class H2WebSocketClient implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final CompletableFuture<Http2Settings> settings = new CompletableFuture<>();
    private final Channel channel;
    private final AtomicInteger resetsReceived = new AtomicInteger();

    private H2WebSocketClient(int port, SslContext tls) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), "a.test", port));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().frameLogger(new ResetCount())
                                .build(), new SettingsWatch(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                }).connect("127.0.0.1", port).sync().channel();
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(16 << 20)).sync();
    }

    /** @param tls a client context offering ALPN {@code h2}, or {@code null} for h2c with prior knowledge */
    public static H2WebSocketClient connect(int port, SslContext tls) throws InterruptedException {
        return new H2WebSocketClient(port, tls);
    }

    /** @return the server's first SETTINGS, waiting up to 5 s */
    public Http2Settings settings() throws Exception {
        return settings.get(5, TimeUnit.SECONDS);
    }

    public Channel channel() {
        return channel;
    }

    /** @return an extended CONNECT for a WebSocket at {@code path} (change it to test refusals) */
    public static Http2Headers connectHeaders(String path) {
        return new DefaultHttp2Headers().method("CONNECT").set(":protocol", "websocket").scheme("http")
                .path(path).authority("127.0.0.1").set("sec-websocket-version", "13");
    }

    /**
     * Opens a stream with {@code headers} (not ending it).
     *
     * @param raw whether DATA is counted rather than decoded as WebSocket frames
     * @param pauseAfterHead whether the stream stops reading once the response head arrived
     */
    public Tunnel open(Http2Headers headers, boolean raw, boolean pauseAfterHead) throws Exception {
        Tunnel t = new Tunnel(raw, pauseAfterHead);
        Http2StreamChannel ch = new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel c) {
                c.pipeline().addLast(t.frames);
                if (!raw) {
                    c.pipeline().addLast(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
                                    .expectMaskedFrames(false).maxFramePayloadLength(WebSocketBackend.MAX_FRAME)
                                    .build()),
                            new WebSocket13FrameEncoder(false), // unmasked: see WebSocketTestClient
                            new WebSocketFrameAggregator(WebSocketBackend.MAX_FRAME), t.new Collector());
                }
            }
        }).open().get(5, TimeUnit.SECONDS);
        t.stream = ch;
        ch.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false)).sync();
        return t;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream: its response head, then its messages or DATA bytes. */
    public static final class Tunnel {
        private final CompletableFuture<Http2Headers> head = new CompletableFuture<>();
        private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        private final AtomicLong dataBytes = new AtomicLong();
        private final CompletableFuture<Void> endStream = new CompletableFuture<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final boolean raw;
        private final boolean pauseAfterHead;
        private final Frames frames = new Frames();
        private final AtomicLong uploaded = new AtomicLong();
        private long toUpload;
        private Http2StreamChannel stream;

        Tunnel(boolean raw, boolean pauseAfterHead) {
            this.raw = raw;
            this.pauseAfterHead = pauseAfterHead;
        }

        /** @return the response head, waiting up to 10 s */
        public Http2Headers head() throws Exception {
            return head.get(10, TimeUnit.SECONDS);
        }

        /**
         * @return the body of a refusal (the DATA that came with a non-2xx head), or in raw mode the first 64 KiB of
         *     the tunnel's bytes, once the stream ended
         */
        public String body() throws Exception {
            endStream.get(10, TimeUnit.SECONDS);
            synchronized (body) {
                return body.toString(java.nio.charset.StandardCharsets.UTF_8);
            }
        }

        public void send(WebSocketFrame frame) throws Exception {
            stream.writeAndFlush(frame).sync();
        }

        /** Sends raw bytes on the stream, with END_STREAM if {@code end}. */
        public void sendRaw(String text, boolean end) throws Exception {
            stream.writeAndFlush(new DefaultHttp2DataFrame(
                    io.netty.buffer.Unpooled.copiedBuffer(text, java.nio.charset.StandardCharsets.US_ASCII), end)).sync();
        }

        /**
         * Sends {@code bytes} zero bytes on the stream, 16 KiB at a time and only while the stream is writable (its
         * send window open), then END_STREAM; returns at once. {@link #uploaded} counts what was handed over.
         */
        public void upload(long bytes) {
            stream.eventLoop().execute(() -> {
                toUpload = bytes;
                pump();
            });
        }

        public long uploaded() {
            return uploaded.get();
        }

        private void pump() {
            while (toUpload > 0 && stream.isWritable()) {
                int n = (int) Math.min(toUpload, 16 * 1024);
                toUpload -= n;
                stream.write(new DefaultHttp2DataFrame(stream.alloc().buffer(n).writeZero(n), toUpload == 0));
                uploaded.addAndGet(n);
            }
            stream.flush();
        }

        /** Ends the client's side of the stream (END_STREAM), as a FIN. */
        public void end() throws Exception {
            stream.writeAndFlush(new DefaultHttp2DataFrame(true)).sync();
        }

        /** @return the next message, waiting up to 10 s */
        public Object next() throws InterruptedException {
            Object o = received.poll(10, TimeUnit.SECONDS);
            if (o == null) {
                throw new AssertionError("no WebSocket message within 10 s");
            }
            return o;
        }

        public long dataBytes() {
            return dataBytes.get();
        }

        /** @return completed once the server ended its side of the stream */
        public CompletableFuture<Void> endStream() {
            return endStream;
        }

        public Http2StreamChannel stream() {
            return stream;
        }

        public void resume() {
            stream.eventLoop().execute(() -> stream.config().setAutoRead(true));
        }

        /** DATA to bytes and back; the response head and END_STREAM recorded. */
        private final class Frames extends ChannelDuplexHandler {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame h) {
                    if (!head.isDone()) {
                        head.complete(h.headers());
                        if (pauseAfterHead && h.headers().status().toString().startsWith("2")) {
                            ctx.channel().config().setAutoRead(false);
                        }
                    }
                    if (h.isEndStream()) {
                        endStream.complete(null);
                    }
                    return;
                }
                if (msg instanceof Http2DataFrame d) {
                    boolean end = d.isEndStream();
                    ByteBuf content = d.content();
                    dataBytes.addAndGet(content.readableBytes());
                    boolean accepted = head.isDone() && head.join().status().toString().startsWith("2");
                    if (raw || !accepted) {
                        if (!accepted || body.size() < 64 * 1024) {
                            synchronized (body) {
                                body.writeBytes(ByteBufUtil.getBytes(content));
                            }
                        }
                        content.release();
                    } else {
                        ctx.fireChannelRead(content);
                    }
                    if (end) {
                        endStream.complete(null);
                    }
                    return;
                }
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ctx.write(msg instanceof ByteBuf b ? new DefaultHttp2DataFrame(b) : msg, promise);
            }

            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                pump();
                ctx.fireChannelWritabilityChanged();
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                ReferenceCountUtil.release(evt); // a reset: the stream closes next
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                head.completeExceptionally(new IllegalStateException("stream closed"));
                endStream.complete(null);
            }
        }

        private final class Collector extends SimpleChannelInboundHandler<WebSocketFrame> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
                if (frame instanceof TextWebSocketFrame text) {
                    received.add(text.text());
                } else if (frame instanceof BinaryWebSocketFrame) {
                    received.add(ByteBufUtil.getBytes(frame.content()));
                } else if (frame instanceof CloseWebSocketFrame close) {
                    received.add(close.statusCode());
                }
            }
        }
    }

    /** @return how many RST_STREAM frames the server sent, on any stream */
    public int resetsReceived() {
        return resetsReceived.get();
    }

    /** Counts the server's RST_STREAM frames, those for streams already closed too (which no stream channel sees). */
    private final class ResetCount extends Http2FrameLogger {
        ResetCount() {
            super(LogLevel.TRACE);
        }

        @Override
        public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
            if (direction == Direction.INBOUND) {
                resetsReceived.incrementAndGet();
            }
            super.logRstStream(direction, ctx, streamId, errorCode);
        }
    }

    /** Records the server's first SETTINGS frame. */
    private final class SettingsWatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2SettingsFrame s) {
                settings.complete(s.settings());
            }
            ctx.fireChannelRead(msg);
        }
    }
}
