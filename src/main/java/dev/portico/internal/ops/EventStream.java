package dev.portico.internal.ops;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's server-sent events: each subscriber gets the whole state once, then one delta a second. Runs on
 * the admin event loop alone (subscribers, the latest state), so a delta and a new subscriber's whole state never
 * cross. One message is encoded once and shared by every subscriber. A subscriber whose connection does not take
 * what it is sent (its write buffer is over the admin channels' high water mark) is dropped rather than buffered
 * for: its page reconnects and starts again from the whole state.
 */
final class EventStream {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final EventLoop loop;
    /** Subscribers, and whether each still needs the whole state before a delta. Admin loop only. */
    private final Map<Channel, Boolean> subscribers = new LinkedHashMap<>();
    private String latestFull;
    /** How many subscribe now, readable from any thread. */
    private volatile int count;

    EventStream(EventLoop loop) {
        this.loop = loop;
    }

    /** Turns the connection into an event stream; on the admin event loop. */
    void subscribe(ChannelHandlerContext ctx) {
        if (ctx.pipeline().get(ReadTimeoutHandler.class) != null) {
            ctx.pipeline().remove(ReadTimeoutHandler.class); // an event stream sends, it does not read
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store").set("X-Accel-Buffering", "no");
        HttpUtil.setTransferEncodingChunked(head, true);
        Channel ch = ctx.channel();
        ch.write(head, ch.voidPromise());
        ch.writeAndFlush(content("retry: 2000\n\n"), ch.voidPromise());
        if (latestFull != null) {
            ch.writeAndFlush(content(event("full", latestFull)), ch.voidPromise());
        }
        subscribers.put(ch, latestFull == null);
        count = subscribers.size();
        ch.closeFuture().addListener(f -> loop.execute(() -> {
            subscribers.remove(ch);
            count = subscribers.size();
        }));
    }

    /** @return how many pages are subscribed; any thread, for tests and the log */
    int size() {
        return count;
    }

    /**
     * Sends a delta to every subscriber (the whole state to those that have none yet). Any thread: hops to the
     * admin event loop.
     *
     * @param full the whole state as JSON
     * @param delta what changed since the last publication, as JSON
     */
    void publish(String full, String delta) {
        loop.execute(() -> {
            latestFull = full;
            if (subscribers.isEmpty()) {
                return;
            }
            ByteBuf fullBuf = null;
            ByteBuf deltaBuf = Unpooled.copiedBuffer(event("delta", delta), StandardCharsets.UTF_8);
            try {
                for (Map.Entry<Channel, Boolean> e : subscribers.entrySet()) {
                    Channel ch = e.getKey();
                    if (!ch.isActive()) {
                        continue;
                    }
                    if (!ch.isWritable()) {
                        LOG.info("dashboard: dropping a slow event stream subscriber {}", ch.remoteAddress());
                        ch.close();
                        continue;
                    }
                    ByteBuf msg;
                    if (e.getValue()) {
                        if (fullBuf == null) {
                            fullBuf = Unpooled.copiedBuffer(event("full", full), StandardCharsets.UTF_8);
                        }
                        msg = fullBuf.retainedDuplicate();
                        e.setValue(false);
                    } else {
                        msg = deltaBuf.retainedDuplicate();
                    }
                    ch.writeAndFlush(new DefaultHttpContent(msg), ch.voidPromise());
                }
            } finally {
                deltaBuf.release();
                if (fullBuf != null) {
                    fullBuf.release();
                }
            }
        });
    }

    private static String event(String name, String json) {
        return "event: " + name + "\ndata: " + json + "\n\n";
    }

    private static DefaultHttpContent content(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }
}
