package dev.portico.internal.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a client connection whose TLS handshake is not over within {@code timeouts.tls_handshake} of the accept,
 * hello and all; removes itself once the handshake is done.
 */
public final class TlsHandshakeTimeout extends ChannelInboundHandlerAdapter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final long timeoutMillis;
    private final Runnable onTimeout;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> task;

    /**
     * @param timeoutMillis {@code timeouts.tls_handshake}
     * @param onTimeout run on the event loop when a connection is closed for being too slow (to count it)
     */
    public TlsHandshakeTimeout(long timeoutMillis, Runnable onTimeout) {
        this.timeoutMillis = timeoutMillis;
        this.onTimeout = onTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        if (context.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        start();
        context.fireChannelActive();
    }

    private void start() {
        if (task == null) {
            task = ctx.executor().schedule(this, timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent) {
            cancel();
            context.pipeline().remove(this);
        }
        context.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        cancel();
        context.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        cancel();
    }

    private void cancel() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    @Override
    public void run() {
        task = null;
        if (ctx.channel().isActive()) {
            LOG.debug("{} TLS handshake not done within {}ms: closing", ctx.channel().id().asShortText(),
                    timeoutMillis);
            onTimeout.run();
            ctx.close();
        }
    }
}
