package dev.portico.internal.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} when a connection neither read nor wrote for the given time,
 * counting a write that is still draining to a slow peer as activity while its bytes move. Unlike Netty's
 * {@code IdleStateHandler} it adds no listener (and so no promise) to each write: write progress is sampled from
 * the outbound buffer when the timer fires. One timer task per connection, rescheduled only when it fires; or, for
 * channels that come and go by the thousand (HTTP/2 streams), one task for all of them on an {@link IdleClock}.
 */
public final class IdleTimer extends ChannelDuplexHandler implements Runnable {
    private final long idleNanos;
    /** The shared task that checks this timer, or null for a task of its own. */
    private final IdleClock clock;
    /** This timer's place in its clock's list, or -1 while it is not on the clock (set by the clock). */
    int clockSlot = -1;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> task;
    private long lastActivity;
    private Object lastMessage;
    private long lastProgress;
    private long lastPending;

    /** @param idleMillis the idle time */
    public IdleTimer(long idleMillis) {
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        this.clock = null;
    }

    /** @param clock the shared task that checks this timer, with the idle time of all its timers */
    public IdleTimer(IdleClock clock) {
        this.idleNanos = clock.idleNanos();
        this.clock = clock;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        if (context.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext context) throws Exception {
        start();
        super.channelActive(context);
    }

    private void start() {
        if (clock != null) {
            if (clockSlot < 0) {
                lastActivity = System.nanoTime();
                clock.add(this, ctx.executor());
            }
            return;
        }
        if (task == null) {
            lastActivity = System.nanoTime();
            task = ctx.executor().schedule(this, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        stop();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        stop();
        super.channelInactive(context);
    }

    private void stop() {
        if (clockSlot >= 0) {
            clock.remove(this);
        }
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) throws Exception {
        lastActivity = System.nanoTime();
        super.channelReadComplete(context);
    }

    @Override
    public void write(ChannelHandlerContext context, Object msg, ChannelPromise promise) {
        lastActivity = System.nanoTime();
        context.write(msg, promise);
    }

    /** The timer fired: idle for the whole period, or reschedule for what is left of it. */
    @Override
    public void run() {
        if (task == null || !ctx.channel().isOpen()) {
            return;
        }
        long now = System.nanoTime();
        if (outputMoved()) {
            lastActivity = now;
        }
        long left = idleNanos - (now - lastActivity);
        if (left <= 0) {
            lastActivity = now;
            task = ctx.executor().schedule(this, idleNanos, TimeUnit.NANOSECONDS);
            ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        } else {
            task = ctx.executor().schedule(this, left, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The clock's check, what {@link #run} does for a timer with a task of its own.
     *
     * @return when this timer is due next ({@link System#nanoTime}), or {@link Long#MAX_VALUE} if it is stopped
     */
    long check(long now) {
        if (clockSlot < 0 || !ctx.channel().isOpen()) {
            return Long.MAX_VALUE;
        }
        if (outputMoved()) {
            lastActivity = now;
        }
        if (now - lastActivity >= idleNanos) {
            lastActivity = now;
            ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
            return clockSlot >= 0 ? now + idleNanos : Long.MAX_VALUE;
        }
        return lastActivity + idleNanos;
    }

    /** Whether the outbound buffer changed since the last sample: a slow reader that still reads is not idle. */
    private boolean outputMoved() {
        Channel ch = ctx.channel();
        ChannelOutboundBuffer buf = ch.unsafe().outboundBuffer();
        if (buf == null) {
            return false;
        }
        Object current = buf.current();
        long progress = buf.currentProgress();
        long pending = buf.totalPendingWriteBytes();
        boolean moved = current != lastMessage || progress != lastProgress || pending != lastPending;
        lastMessage = current;
        lastProgress = progress;
        lastPending = pending;
        return moved;
    }
}
