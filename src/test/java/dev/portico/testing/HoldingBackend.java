package dev.portico.testing;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A backend that holds every {@code /hold} request open until {@link #release()} and answers anything else at once
 * with 200 {@code fast}: a busy backend, or a connection kept in use, on demand.
 */
public final class HoldingBackend implements AutoCloseable {
    private final ConcurrentLinkedQueue<ChannelHandlerContext> held = new ConcurrentLinkedQueue<>();
    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        if (req.uri().equals("/hold")) {
            held.add(ctx);
        } else {
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "fast"));
        }
    });

    /** @return requests held now */
    public int held() {
        return held.size();
    }

    /** Answers every held request with 200 {@code held}. */
    public void release() {
        ChannelHandlerContext ctx;
        while ((ctx = held.poll()) != null) {
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "held"));
        }
    }

    /** @return {@code http://127.0.0.1:PORT} */
    public String url() {
        return backend.url();
    }

    /** @return how many connections the backend accepted */
    public int connections() {
        return backend.connections();
    }

    @Override
    public void close() {
        release();
        backend.close();
    }
}
