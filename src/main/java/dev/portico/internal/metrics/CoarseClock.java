package dev.portico.internal.metrics;

import io.micrometer.core.instrument.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The registry's clock: wall time read by a thread of its own every {@value #TICK_MILLIS} ms rather than at each
 * recording. Micrometer reads the wall time twice per timer recording (the decaying maximum's and the histogram's
 * window rotations, every 20 s or so), two timers per request; that was a third of the clock reads of a proxied
 * request, for windows whose edges need no better than a tenth of a second. Monotonic time, which durations are
 * measured with, is the system's.
 */
final class CoarseClock implements Clock, AutoCloseable {
    static final long TICK_MILLIS = 100;

    private volatile long wallMillis = System.currentTimeMillis();
    private volatile boolean closed;
    private final Thread ticker;

    CoarseClock() {
        ticker = new Thread(this::tick, "portico-metrics-clock");
        ticker.setDaemon(true);
        ticker.start();
    }

    private void tick() {
        while (!closed) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS));
            wallMillis = System.currentTimeMillis();
        }
    }

    @Override
    public long wallTime() {
        return wallMillis;
    }

    @Override
    public long monotonicTime() {
        return System.nanoTime();
    }

    /** @return whether the ticking thread is still alive */
    boolean ticking() {
        return ticker.isAlive();
    }

    /** Stops the ticking thread; the wall time then stays at its last reading. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(ticker);
    }
}
