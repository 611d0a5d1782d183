package dev.portico.internal.server;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The idle timers of one event loop's HTTP/1.1 client connections: one task per loop that looks at each connection's
 * last activity every tick, instead of a scheduled task per connection (and its place in the loop's timer queue),
 * which every open connection held for its whole life. A tick is a quarter of the shortest {@code timeouts.idle}
 * among the connections, between 10 ms and 1 s, so a connection closes within a tick after its idle time. The task
 * runs only while the loop has connections. All calls on the loop.
 */
final class IdleSweep implements Runnable {
    private static final long MIN_TICK = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_TICK = TimeUnit.SECONDS.toNanos(1);

    private final EventExecutor loop;
    private FrontendConnection head;
    private ScheduledFuture<?> task;
    private long tick = MAX_TICK;

    IdleSweep(EventExecutor loop) {
        this.loop = loop;
    }

    /** Watches {@code c} until {@link #remove}. */
    void add(FrontendConnection c, long idleNanos) {
        c.sweepNext = head;
        c.sweepPrev = null;
        if (head != null) {
            head.sweepPrev = c;
        }
        head = c;
        long t = Math.max(MIN_TICK, Math.min(MAX_TICK, idleNanos / 4));
        if (task == null) {
            tick = t;
            task = loop.schedule(this, tick, TimeUnit.NANOSECONDS);
        } else if (t < tick) { // a shorter idle time (a reload): tick faster from now on
            tick = t;
            task.cancel(false);
            task = loop.schedule(this, tick, TimeUnit.NANOSECONDS);
        }
    }

    /** Stops watching {@code c}; the task stops at its next tick if it was the last. */
    void remove(FrontendConnection c) {
        if (c.sweepPrev == null) {
            if (head == c) {
                head = c.sweepNext;
            }
        } else {
            c.sweepPrev.sweepNext = c.sweepNext;
        }
        if (c.sweepNext != null) {
            c.sweepNext.sweepPrev = c.sweepPrev;
        }
        c.sweepNext = null;
        c.sweepPrev = null;
    }

    @Override
    public void run() {
        task = null;
        long now = System.nanoTime();
        FrontendConnection c = head;
        while (c != null) {
            FrontendConnection next = c.sweepNext; // c may close, and leave, while it is looked at
            c.sweep(now, tick);
            c = next;
        }
        if (head != null && task == null) {
            task = loop.schedule(this, tick, TimeUnit.NANOSECONDS);
        }
    }
}
