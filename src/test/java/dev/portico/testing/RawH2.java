package dev.portico.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * HTTP/2 frames on the wire, without a connection state machine on the client side: it sends what a test says
 * (streams beyond the server's limits, resets, floods, malformed heads) and records what the server answers as
 * lines: {@code SETTINGS} (received and acknowledged), {@code HEADERS <stream> <status>}, {@code END <stream>}, {@code RST <stream> <code>},
 * {@code GOAWAY <code>}, {@code CLOSED}.
 */
public final class RawH2 implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.Map<Integer, java.util.concurrent.atomic.AtomicLong> dataBytes =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    private final Channel channel;
    private volatile ChannelHandlerContext ctx;

    public RawH2(int port) throws InterruptedException {
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new Frames())
                .connect("127.0.0.1", port).sync().channel();
        run(c -> {
            c.write(Http2CodecUtil.connectionPrefaceBuf());
            writer.writeSettings(c, new Http2Settings().initialWindowSize(1 << 24), c.newPromise());
        });
    }

    /** @return request headers for GET {@code path} at 127.0.0.1 (not validated, so tests can break them) */
    public static Http2Headers get(String path) {
        return new DefaultHttp2Headers(false).method("GET").scheme("http").path(path).authority("127.0.0.1");
    }

    /** Runs {@code action} with the connection's context on its event loop, then flushes. */
    public void run(Consumer<ChannelHandlerContext> action) throws InterruptedException {
        channel.eventLoop().submit(() -> {
            action.accept(ctx);
            ctx.flush();
        }).sync();
    }

    public void headers(int stream, Http2Headers headers, boolean endStream) throws InterruptedException {
        run(c -> writer.writeHeaders(c, stream, headers, 0, endStream, c.newPromise()));
    }

    public DefaultHttp2FrameWriter writer() {
        return writer;
    }

    /**
     * Lines come in the order the server sent them, which is fixed for one stream but not across streams whose
     * answers race (say, backend responses on different connections): wait for those with {@link #awaitAll}.
     *
     * @return the first recorded line matching {@code match} within 10 s (earlier lines are dropped), or null
     */
    public String await(Predicate<String> match) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String e;
        while ((e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) != null) {
            if (match.test(e)) {
                return e;
            }
        }
        return null;
    }

    /**
     * Waits up to 10 s for every line of {@code expected}, in any order; other lines are dropped.
     *
     * @return the lines of {@code expected} that did not come (empty when all did)
     */
    public Set<String> awaitAll(Collection<String> expected) throws InterruptedException {
        Set<String> missing = new LinkedHashSet<>(expected);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String e;
        while (!missing.isEmpty()
                && (e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) != null) {
            missing.remove(e);
        }
        return missing;
    }

    /** @return whether a line equal to {@code event} was ever recorded (whether or not an await dropped it) */
    public boolean seen(String event) {
        return seen.contains(event);
    }

    /** @return the DATA payload bytes received on {@code stream} so far */
    public long dataBytes(int stream) {
        java.util.concurrent.atomic.AtomicLong n = dataBytes.get(stream);
        return n == null ? 0 : n.get();
    }

    /** @return every line recorded so far */
    public List<String> drain() {
        List<String> out = new java.util.ArrayList<>();
        events.drainTo(out);
        return out;
    }

    private void record(String event) {
        seen.add(event);
        events.add(event);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Frames extends ByteToMessageDecoder {
        private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(false);
        private final Http2FrameAdapter listener = new Http2FrameAdapter() {
            @Override
            public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
                writer.writeSettingsAck(c, c.newPromise());
                c.flush();
                record("SETTINGS");
            }

            @Override
            public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                                      boolean endStream) {
                record("HEADERS " + streamId + " " + headers.status());
                if (endStream) {
                    record("END " + streamId);
                }
            }

            @Override
            public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers,
                                      int streamDependency, short weight, boolean exclusive, int padding,
                                      boolean endStream) {
                onHeadersRead(c, streamId, headers, padding, endStream);
            }

            @Override
            public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding,
                                  boolean endOfStream) {
                dataBytes.computeIfAbsent(streamId, k -> new java.util.concurrent.atomic.AtomicLong())
                        .addAndGet(data.readableBytes());
                if (endOfStream) {
                    record("END " + streamId);
                }
                return data.readableBytes() + padding;
            }

            @Override
            public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
                record("RST " + streamId + " " + errorCode);
            }

            @Override
            public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
                record("GOAWAY " + errorCode);
            }
        };

        @Override
        public void handlerAdded(ChannelHandlerContext c) {
            ctx = c;
        }

        @Override
        protected void decode(ChannelHandlerContext c, ByteBuf in, List<Object> out) throws Http2Exception {
            reader.readFrame(c, in, listener);
        }

        @Override
        public void channelInactive(ChannelHandlerContext c) throws Exception {
            record("CLOSED");
            super.channelInactive(c);
        }
    }
}
