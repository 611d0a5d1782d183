package dev.portico.internal.ops;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard: its page (HTML, CSS and JavaScript from the jar, nothing fetched from elsewhere) and its event
 * stream, fed by a sample of the proxy's state taken once a second on a thread of its own, so that neither the
 * proxy's event loops nor the admin loop do the sampling.
 */
final class Dashboard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    /** The path of the event stream. */
    static final String EVENTS = "/events";
    /** The page's files by path, with their content types. */
    private static final Map<String, String[]> ASSETS = Map.of(
            "/", new String[] {"dashboard.html", "text/html; charset=utf-8"},
            "/dashboard.js", new String[] {"dashboard.js", "text/javascript; charset=utf-8"},
            "/dashboard.css", new String[] {"dashboard.css", "text/css; charset=utf-8"});

    private final Map<String, byte[]> files = new java.util.HashMap<>();
    private final EventStream events;
    private final ScheduledExecutorService sampler;

    /**
     * @param model what is sampled
     * @param adminLoop the admin listener's event loop, where subscribers live
     * @param everyMillis how often the state is sampled and a delta sent
     */
    Dashboard(DashboardModel model, EventLoop adminLoop, long everyMillis) {
        for (String[] a : ASSETS.values()) {
            files.put(a[0], read(a[0]));
        }
        events = new EventStream(adminLoop);
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "portico-dashboard");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(() -> {
            try {
                DashboardModel.Sample s = model.sample();
                events.publish(s.full(), s.delta());
            } catch (RuntimeException e) {
                LOG.warn("dashboard: sampling failed: {}", e.toString(), e);
            }
        }, 0, everyMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * @param path a request path
     * @param keepAlive whether the connection stays open
     * @return the page's file at that path, or {@code null} if there is none
     */
    FullHttpResponse asset(String path, boolean keepAlive) {
        String[] a = ASSETS.get(path);
        if (a == null) {
            return null;
        }
        FullHttpResponse res = secured(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(files.get(a[0]))), a[1]);
        HttpUtil.setKeepAlive(res, keepAlive);
        return res;
    }

    /**
     * Sets the fields every page of the admin endpoint carries: its type and length, no caching, and a content
     * security policy that lets it load nothing but its own files, be framed by no one and post forms only here.
     */
    static FullHttpResponse secured(FullHttpResponse res, String type) {
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set("X-Content-Type-Options", "nosniff")
                .set("X-Frame-Options", "DENY")
                // same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with a form it
                // posts (the login form, sign-out), which the same-origin check must refuse.
                .set("Referrer-Policy", "same-origin")
                .set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                        + "form-action 'self'");
        return res;
    }

    /** Turns the connection into an event stream; on the admin event loop. */
    void subscribe(ChannelHandlerContext ctx) {
        events.subscribe(ctx);
    }

    /** @return the event stream, for tests */
    EventStream events() {
        return events;
    }

    static byte[] read(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks the dashboard's " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
