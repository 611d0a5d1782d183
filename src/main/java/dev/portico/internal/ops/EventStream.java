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
 * cross. One message is encoded once and shared by every subscriber. What a subscriber has unsent is bounded: while
 * its connection is over the admin channels' high water mark it is sent nothing (and gets the whole state again
 * once it drains, since it missed deltas); one that stays over it for {@value #DROP_AFTER} publications in a row
 * is dropped, and its page reconnects.
 */
final class EventStream {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    /** Publications in a row a subscriber may stay unwritable before it is dropped. */
    static final int DROP_AFTER = 10;

    private final EventLoop loop;
    /** Subscribers and their state. Admin loop only. */
    private final Map<Channel, Subscriber> subscribers = new LinkedHashMap<>();

    /** What is known of one subscriber; admin loop only. */
    private static final class Subscriber {
        /** Whether it needs the whole state before a delta: it has none yet, or missed deltas. */
        boolean needsFull;
        /** Publications in a row it could not take. */
        int unwritable;
    }
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
        Subscriber sub = new Subscriber();
        sub.needsFull = latestFull == null;
        subscribers.put(ch, sub);
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
        if (loop.isShuttingDown()) {
            return; // the admin endpoint is closing
        }
        loop.execute(() -> {
            latestFull = full;
            if (subscribers.isEmpty()) {
                return;
            }
            ByteBuf fullBuf = null;
            ByteBuf deltaBuf = Unpooled.copiedBuffer(event("delta", delta), StandardCharsets.UTF_8);
            try {
                for (Map.Entry<Channel, Subscriber> e : subscribers.entrySet()) {
                    Channel ch = e.getKey();
                    Subscriber sub = e.getValue();
                    if (!ch.isActive()) {
                        continue;
                    }
                    if (!ch.isWritable()) {
                        sub.needsFull = true; // it misses this delta
                        if (++sub.unwritable >= DROP_AFTER) {
                            LOG.info("dashboard: dropping an event stream subscriber that does not read: {}",
                                    ch.remoteAddress());
                            ch.close();
                        }
                        continue;
                    }
                    sub.unwritable = 0;
                    ByteBuf msg;
                    if (sub.needsFull) {
                        if (fullBuf == null) {
                            fullBuf = Unpooled.copiedBuffer(event("full", full), StandardCharsets.UTF_8);
                        }
                        msg = fullBuf.retainedDuplicate();
                        sub.needsFull = false;
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
