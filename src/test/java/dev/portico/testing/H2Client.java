package dev.portico.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/2 client with prior knowledge, from Netty's client codec: one connection, a stream per request, bodies
 * streamed both ways (uploads written only while the stream is writable, so the stream's window is honoured),
 * response bodies counted, and kept (up to 64 KiB) as text.
 */
public final class H2Client implements AutoCloseable {
    /** A finished response. */
    public record Result(int status, HttpHeaders headers, long bodyBytes, String bodyStart, HttpHeaders trailers) {
    }

    private static final ByteBuf CHUNK = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(16 * 1024).writeZero(16 * 1024)).asReadOnly();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;
    private final AtomicLong uploaded = new AtomicLong();
    private final java.util.List<Channel> pausedStreams = new java.util.concurrent.CopyOnWriteArrayList<>();

    private H2Client(int port) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                }).connect("127.0.0.1", port).sync().channel();
        // A large connection window, so a stream the test leaves unread does not stall the others.
        channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(64 << 20)).sync();
    }

    public static H2Client connect(int port) throws InterruptedException {
        return new H2Client(port);
    }

    public Channel channel() {
        return channel;
    }

    /** A GET of {@code path}. */
    public CompletableFuture<Result> get(String path) {
        return send(HttpMethod.GET, path, -1, false);
    }

    /**
     * @param method the method
     * @param path the path
     * @param uploadBytes the body size (zero bytes sent in chunks), or -1 for none
     * @param paused whether the stream starts without reading (see {@link #resume})
     * @return the response, once its end arrived
     */
    public CompletableFuture<Result> send(HttpMethod method, String path, long uploadBytes, boolean paused) {
        return send(method, path, uploadBytes, paused, new String[0]);
    }

    /**
     * @param method the method
     * @param path the path
     * @param uploadBytes the body size (zero bytes sent in chunks), or -1 for none
     * @param paused whether the stream starts without reading (see {@link #resume})
     * @param headers more request fields, as name, value, name, value...
     * @return the response, once its end arrived
     */
    public CompletableFuture<Result> send(HttpMethod method, String path, long uploadBytes, boolean paused,
                                          String... headers) {
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, path);
        head.headers().set("host", "127.0.0.1");
        for (int i = 0; i < headers.length; i += 2) {
            head.headers().add(headers[i], headers[i + 1]);
        }
        if (uploadBytes >= 0) {
            head.headers().set("content-length", uploadBytes);
        }
        Collector collector = new Collector(head, uploadBytes);
        new Http2StreamChannelBootstrap(channel).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.config().setAutoRead(!paused);
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), collector);
            }
        }).open().addListener(f -> {
            if (!f.isSuccess()) {
                collector.result.completeExceptionally(f.cause());
            } else if (paused) {
                pausedStreams.add((Channel) f.getNow());
            }
        });
        return collector.result;
    }

    /** @return request body bytes handed to the streams so far (written only while a stream is writable) */
    public long uploaded() {
        return uploaded.get();
    }

    /** Resumes reading on every stream that was opened paused. */
    public void resume() {
        channel.eventLoop().execute(() -> pausedStreams.forEach(c -> c.config().setAutoRead(true)));
    }

    /**
     * Closes the connection. Streams opened paused are closed first: Netty leaves a stream that is not reading open,
     * with the frames it received queued, when its connection closes, and those would never be released.
     */
    @Override
    public void close() {
        channel.eventLoop().submit(() -> pausedStreams.forEach(Channel::close)).syncUninterruptibly();
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Collector extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Result> result = new CompletableFuture<>();
        private final HttpRequest head;
        private long toSend;
        private final boolean hasBody;
        private final AtomicLong received = new AtomicLong();
        private final ByteArrayOutputStream start = new ByteArrayOutputStream();
        private HttpResponse response;
        private ChannelHandlerContext ctx;

        Collector(HttpRequest head, long uploadBytes) {
            this.head = head;
            this.hasBody = uploadBytes >= 0;
            this.toSend = Math.max(0, uploadBytes);
        }

        @Override
        public void channelActive(ChannelHandlerContext context) {
            ctx = context;
            if (!hasBody) {
                context.write(head);
                context.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                return;
            }
            context.write(head);
            pump();
        }

        private void pump() {
            while (toSend > 0 && ctx.channel().isWritable()) {
                int n = (int) Math.min(toSend, CHUNK.capacity());
                toSend -= n;
                ByteBuf part = CHUNK.retainedSlice(0, n);
                ctx.write(toSend == 0 ? new DefaultLastHttpContent(part) : new DefaultHttpContent(part));
                uploaded.addAndGet(n);
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext context) {
            if (context.channel().isWritable() && toSend > 0) {
                pump();
            }
            context.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object msg) {
            try {
                if (msg instanceof HttpResponse r && r.status().code() >= 200) {
                    response = r;
                }
                if (msg instanceof HttpContent c && response != null) {
                    int n = c.content().readableBytes();
                    received.addAndGet(n);
                    if (start.size() < 64 * 1024) {
                        byte[] b = new byte[Math.min(n, 64 * 1024 - start.size())];
                        c.content().getBytes(c.content().readerIndex(), b);
                        start.writeBytes(b);
                    }
                    if (msg instanceof LastHttpContent last) {
                        result.complete(new Result(response.status().code(), response.headers(), received.get(),
                                start.toString(StandardCharsets.UTF_8), last.trailingHeaders().copy()));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object evt) {
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            result.completeExceptionally(cause);
            context.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            result.completeExceptionally(new IllegalStateException("stream closed before the response ended"));
        }
    }
}
