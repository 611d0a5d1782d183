package dev.portico.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket backend over HTTP/2 (RFC 8441; h2c, or h2 over TLS) from Netty's server codec: it advertises
 * {@code SETTINGS_ENABLE_CONNECT_PROTOCOL} (or, built with {@code false}, does not), answers an extended CONNECT
 * for {@code websocket} with 200 and then echoes WebSocket frames, ending its stream after the close handshake; at
 * {@code /stream} it instead sends zero bytes on the stream for as long as the stream's window lets it, and at
 * {@code /status/N} it answers N and ends the stream, and at {@code /sink} it reads nothing after its 200 until
 * {@link #resumeSinks}. Anything else gets a 404. It records each stream's request head and counts streams and their ends.
 */
public final class H2WebSocketBackend implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final BlockingQueue<Http2Headers> heads = new LinkedBlockingQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger streams = new AtomicInteger();
    private final AtomicInteger closed = new AtomicInteger();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final List<Channel> sinks = new CopyOnWriteArrayList<>();

    /** @param connectProtocol whether its SETTINGS enable extended CONNECT */
    public H2WebSocketBackend(boolean connectProtocol) {
        this(connectProtocol, null);
    }

    /**
     * @param connectProtocol whether its SETTINGS enable extended CONNECT
     * @param tls a server context offering ALPN {@code h2}, or {@code null} for h2c with prior knowledge
     */
    public H2WebSocketBackend(boolean connectProtocol, SslContext tls) {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                                .initialSettings(Http2Settings.defaultSettings()
                                        .connectProtocolEnabled(connectProtocol)).build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel s) {
                                        s.pipeline().addLast(new Stream());
                                    }
                                }));
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    /** @return {@code http://127.0.0.1:PORT} */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** @return the port it listens on */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** @return the next stream's request head, waiting up to 5 s, or null */
    public Http2Headers takeHead() throws InterruptedException {
        return heads.poll(5, TimeUnit.SECONDS);
    }

    /** @return the HTTP/2 connections accepted */
    public int connections() {
        return connections.get();
    }

    /** @return the streams whose HEADERS arrived */
    public int streams() {
        return streams.get();
    }

    /** @return the streams closed */
    public int closed() {
        return closed.get();
    }

    /** @return the bytes read on {@code /sink} streams */
    public long received() {
        return received.get();
    }

    /** Makes {@code /sink} streams read again. */
    public void resumeSinks() {
        for (Channel ch : sinks) {
            ch.eventLoop().execute(() -> ch.config().setAutoRead(true));
        }
    }

    /** @return the bytes sent on {@code /stream} streams */
    public long written() {
        return written.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream: the handshake, then DATA to bytes and back for the WebSocket codecs, or the pump. */
    private final class Stream extends ChannelDuplexHandler {
        private boolean headSeen;
        private boolean pumping;
        private boolean outputEnded;
        private boolean sinking;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame h && !headSeen) {
                headSeen = true;
                streams.incrementAndGet();
                heads.add(h.headers());
                boolean ws = "CONNECT".contentEquals(h.headers().method())
                        && "websocket".contentEquals(String.valueOf(h.headers().get(":protocol")));
                String path = String.valueOf(h.headers().path());
                if (ws && path.startsWith("/status/")) { // a refusal: that status, no tunnel
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                            .status(path.substring("/status/".length())), true));
                    return;
                }
                if (!ws) {
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("404"), true));
                    return;
                }
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                        .set("x-backend", "h2"), false));
                if ("/sink".contentEquals(h.headers().path())) {
                    sinking = true;
                    sinks.add(ctx.channel());
                    ctx.channel().config().setAutoRead(false); // takes nothing until resumeSinks()
                    return;
                }
                if ("/stream".contentEquals(h.headers().path())) {
                    pumping = true;
                    pump(ctx);
                } else {
                    ctx.pipeline().addLast(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
                                    .maxFramePayloadLength(WebSocketBackend.MAX_FRAME).allowMaskMismatch(true)
                                    .build()), new WebSocket13FrameEncoder(false),
                            new WebSocketFrameAggregator(WebSocketBackend.MAX_FRAME), new Echo());
                }
                return;
            }
            if (msg instanceof Http2DataFrame d && sinking) {
                received.addAndGet(d.content().readableBytes());
                d.release();
                return;
            }
            if (msg instanceof Http2DataFrame d && !pumping) {
                boolean end = d.isEndStream();
                ByteBuf bytes = d.content();
                if (bytes.isReadable()) {
                    ctx.fireChannelRead(bytes);
                } else {
                    bytes.release();
                }
                if (end && !outputEnded) {
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(true)); // a FIN answered with a FIN
                }
                return;
            }
            ReferenceCountUtil.release(msg);
        }

        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            while (ch.isActive() && ch.isWritable()) {
                ctx.write(new DefaultHttp2DataFrame(ch.alloc().buffer(16 * 1024).writeZero(16 * 1024)));
                written.addAndGet(16 * 1024);
            }
            ctx.flush();
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            outputEnded |= msg instanceof Http2DataFrame d && d.isEndStream();
            ctx.write(msg instanceof ByteBuf b ? new DefaultHttp2DataFrame(b) : msg, promise);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (pumping) {
                pump(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ReferenceCountUtil.release(evt); // a reset: the stream closes next
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed.incrementAndGet();
            ctx.fireChannelInactive();
        }
    }

    /** Echoes data frames; answers a close with a close and the end of the stream. */
    private static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof CloseWebSocketFrame) {
                ctx.channel().write(frame.retain());
                ctx.channel().writeAndFlush(new DefaultHttp2DataFrame(true)); // the backend's FIN
            } else if (frame instanceof PingWebSocketFrame) {
                ctx.channel().writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            } else {
                ctx.channel().writeAndFlush(frame.retain());
            }
        }
    }
}
