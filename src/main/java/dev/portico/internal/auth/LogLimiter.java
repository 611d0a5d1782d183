package dev.portico.internal.auth;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs without letting a flood of bad requests (or a long outage) flood the log: at most one line per interval,
 * with the count of those left out; at INFO, every line goes out at DEBUG instead when that is on. Thread-safe.
 */
public final class LogLimiter {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(System.nanoTime());
    private final AtomicLong suppressed = new AtomicLong();
    private final boolean warn;

    /**
     * @param log where lines go
     * @param intervalNanos the least time between two lines
     * @param warn whether lines are warnings rather than INFO
     */
    public LogLimiter(Logger log, long intervalNanos, boolean warn) {
        this.log = log;
        this.warn = warn;
        this.intervalNanos = intervalNanos;
        next.set(System.nanoTime() - intervalNanos);
    }

    /**
     * @param format an SLF4J format
     * @param args its arguments
     */
    public void log(String format, Object... args) {
        if (!warn && log.isDebugEnabled()) {
            log.debug(format, args);
            return;
        }
        long now = System.nanoTime();
        long due = next.get();
        if (now - due >= 0 && next.compareAndSet(due, now + intervalNanos)) {
            long left = suppressed.getAndSet(0);
            String line = format + (left > 0 ? " (" + left + " more since the last such line)" : "");
            if (warn) {
                log.warn(line, args);
            } else {
                log.info(line, args);
            }
        } else {
            suppressed.incrementAndGet();
        }
    }
}
