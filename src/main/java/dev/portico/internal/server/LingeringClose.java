package dev.portico.internal.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Turns the close of an HTTP/2 connection into a lingering close, as {@link FrontendHandler} does for HTTP/1.1:
 * what was written (the GOAWAY above all) is flushed, TLS sends close_notify, the write side is shut (FIN), and what
 * the client still sends is read and dropped until it closes too, for at most {@link FrontendHandler#LINGER_MILLIS}.
 *
 * <p>Netty's HTTP/2 codec closes the connection right after its GOAWAY when the client breaks a limit (a reset
 * flood, too many malformed requests), typically while more of the client's frames are still unread in the socket.
 * Closing a socket with unread bytes makes the kernel send a TCP reset instead of a FIN, and a client that gets the
 * reset may drop what it had not read yet: the GOAWAY that says why. It sits between the transport (or TLS) and the
 * codec, so every close the codec and the stages after it ask for passes here. The connection closes for good when
 * the client closes its side, when reading or writing fails, or when the linger time is over, whichever comes first.
 */
final class LingeringClose extends ChannelDuplexHandler {
    private final long idleMillis;
    private boolean lingering;

    /** @param idleMillis {@code timeouts.idle}: how long a client that reads nothing may keep the close waiting */
    LingeringClose(long idleMillis) {
        this.idleMillis = idleMillis;
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        Channel ch = ctx.channel();
        if (lingering) {
            // The codec asks more than once (after its GOAWAY is written, then again on a timer): the lingering
            // close already under way answers them all.
            ch.closeFuture().addListener(f -> promise.trySuccess());
            return;
        }
        if (!(ch instanceof DuplexChannel) || !ch.isActive()) {
            ctx.close(promise);
            return;
        }
        lingering = true;
        ch.closeFuture().addListener(f -> promise.trySuccess());
        // A client that never reads what is left to write would hold the connection forever: close it in any case.
        ScheduledFuture<?> hardClose = ch.eventLoop().schedule(() -> {
            ctx.close();
        }, idleMillis + FrontendHandler.LINGER_MILLIS, TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> hardClose.cancel(false));
        // Behind what the codec wrote before asking to close: done when all of that is on the wire.
        ChannelFuture flushed = ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
        flushed.addListener(f -> {
            if (!f.isSuccess() || !ch.isActive()) {
                ctx.close();
                return;
            }
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            ChannelFuture closeNotify = ssl == null ? ch.newSucceededFuture() : ssl.closeOutbound();
            closeNotify.addListener(n -> ((DuplexChannel) ch).shutdownOutput().addListener(s -> {
                if (!s.isSuccess() || !ch.isActive()) {
                    ctx.close();
                    return;
                }
                ScheduledFuture<?> linger = ch.eventLoop().schedule(() -> {
                    ctx.close();
                }, FrontendHandler.LINGER_MILLIS, TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(c -> linger.cancel(false));
                ch.config().setAutoRead(true);
                ctx.read();
            }));
        });
    }

    /** While lingering, the client's bytes are dropped: the codec has closed the connection. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!lingering) {
            ctx.fireChannelReadComplete();
        }
    }

    /** While lingering, the client's FIN (when half-closure is allowed) ends the connection. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (lingering && evt instanceof ChannelInputShutdownEvent) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** While lingering, an error (a reset by the client, say) ends the connection at once. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (lingering) {
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
