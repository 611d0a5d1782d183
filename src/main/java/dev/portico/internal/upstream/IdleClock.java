package dev.portico.internal.upstream;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One timer task for the {@link IdleTimer}s of many short-lived channels on one event loop, such as the streams of
 * an HTTP/2 connection: a stream that lives a millisecond then costs an entry in a list instead of a scheduled task
 * of its own (an allocation and two operations on the event loop's timer queue). All timers share one idle time, so
 * a timer that joins is never due before the task already scheduled; when the task fires it checks every timer, as
 * each would have checked itself, and is scheduled again for the earliest one left. All calls on that event loop.
 */
public final class IdleClock implements Runnable {
    private final long idleNanos;
    private final List<IdleTimer> timers = new ArrayList<>();
    private io.netty.util.concurrent.EventExecutor executor;
    private boolean scheduled;

    /** @param idleMillis the idle time of every timer on this clock */
    public IdleClock(long idleMillis) {
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
    }

    long idleNanos() {
        return idleNanos;
    }

    void add(IdleTimer timer, io.netty.util.concurrent.EventExecutor loop) {
        timer.clockSlot = timers.size();
        timers.add(timer);
        executor = loop;
        if (!scheduled) {
            scheduled = true;
            loop.schedule(this, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Takes {@code timer} off in constant time: the last timer moves to its place (order does not matter). */
    void remove(IdleTimer timer) {
        int i = timer.clockSlot;
        if (i < 0) {
            return;
        }
        timer.clockSlot = -1;
        int last = timers.size() - 1;
        IdleTimer moved = timers.remove(last);
        if (i != last) {
            timers.set(i, moved);
            moved.clockSlot = i;
        }
    }

    @Override
    public void run() {
        scheduled = false;
        long now = System.nanoTime();
        long next = Long.MAX_VALUE;
        // A timer that fires may close its channel, which removes it from the list: go over a copy.
        for (IdleTimer t : timers.toArray(new IdleTimer[0])) {
            long due = t.check(now);
            if (due != Long.MAX_VALUE && (next == Long.MAX_VALUE || due - next < 0)) {
                next = due;
            }
        }
        if (!timers.isEmpty()) {
            scheduled = true;
            long delay = next == Long.MAX_VALUE ? idleNanos : Math.max(0, next - System.nanoTime());
            executor.schedule(this, delay, TimeUnit.NANOSECONDS);
        }
    }
}
