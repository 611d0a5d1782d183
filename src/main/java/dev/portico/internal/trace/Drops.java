package dev.portico.internal.trace;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spans that were made but never reached the collector ({@code portico_tracing_spans_dropped_total}): the export
 * queue was full, or the export failed. Says so in one WARN line a minute at most, whatever the rate. Thread-safe:
 * counted from the event loops and the exporter's thread.
 */
public final class Drops {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    private static final long WARN_EVERY = TimeUnit.MINUTES.toNanos(1);
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_EVERY);

    /** @return spans dropped so far */
    public long count() {
        return count.get();
    }

    void add(int spans, String why) {
        long total = count.addAndGet(spans);
        long now = System.nanoTime();
        long last = lastWarn.get();
        if (now - last >= WARN_EVERY && lastWarn.compareAndSet(last, now)) {
            LOG.warn("tracing: {} spans dropped ({}); {} in all so far (logged once a minute at most)", spans, why,
                    total);
        }
    }
}
