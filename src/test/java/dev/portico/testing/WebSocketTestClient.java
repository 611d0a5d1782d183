package dev.portico.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client from Netty's client handlers: {@link #connect} completes the handshake (or fails with the
 * handshake's error), messages arrive whole (aggregated) in {@link #received} as a String (text), a byte[]
 * (binary) or a {@link CloseWebSocketFrame}'s status code as an Integer.
 */
public final class WebSocketTestClient implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> handshake = new CompletableFuture<>();
    private Channel channel;

    /** Connects to {@code ws://127.0.0.1:port/path} and waits up to 5 s for the handshake. */
    public static WebSocketTestClient connect(int port, String path) throws Exception {
        WebSocketTestClient c = new WebSocketTestClient();
        try {
            c.open(URI.create("ws://127.0.0.1:" + port + path));
        } catch (Exception e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void open(URI uri) throws Exception {
        // No masking (the backend allows it): unmasking runs per 4 bytes, and under paranoid leak detection each
        // access is recorded, which made a 10 MiB message take seconds. The proxy forwards bytes either way.
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder().webSocketUri(uri)
                .maxFramePayloadLength(WebSocketBackend.MAX_FRAME).handleCloseFrames(false)
                .handshakeTimeoutMillis(5000).performMasking(false).build();
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024),
                                new WebSocketClientProtocolHandler(config),
                                new WebSocketFrameAggregator(WebSocketBackend.MAX_FRAME), new Collector());
                    }
                }).connect(uri.getHost(), uri.getPort()).sync().channel();
        handshake.get(10, TimeUnit.SECONDS);
    }

    /** Sends a frame and waits for the write. */
    public void send(WebSocketFrame frame) throws Exception {
        channel.writeAndFlush(frame).sync();
    }

    /** @return the next message, waiting up to 10 s */
    public Object next() throws InterruptedException {
        Object o = received.poll(10, TimeUnit.SECONDS);
        if (o == null) {
            throw new AssertionError("no WebSocket message within 10 s");
        }
        return o;
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
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

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                handshake.complete(null);
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            handshake.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            handshake.completeExceptionally(new IllegalStateException("connection closed"));
            super.channelInactive(ctx);
        }
    }
}
