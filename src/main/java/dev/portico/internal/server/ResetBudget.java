package dev.portico.internal.server;

import dev.portico.config.Http2Config;
import java.util.concurrent.TimeUnit;

/**
 * The stream resets a client may cause on one connection ({@code http2.max_resets} per {@code http2.reset_window}),
 * counted in fixed windows; shared by the HTTP/2 and HTTP/3 connection guards. Used on the connection's event loop
 * only.
 */
final class ResetBudget {
    private final int maxResets;
    private final long windowNanos;
    private long windowStart = System.nanoTime();
    private int resets;

    ResetBudget(Http2Config config) {
        this.maxResets = config.maxResets();
        this.windowNanos = config.resetWindow().toNanos();
    }

    /** Counts one reset. @return whether the connection is now over its budget */
    boolean spend() {
        long now = System.nanoTime();
        if (now - windowStart >= windowNanos) {
            windowStart = now;
            resets = 0;
        }
        return ++resets > maxResets;
    }

    /** @return the budget as a log line states it, e.g. {@code "more than 200 streams reset in 30s"} */
    String describe() {
        return "more than " + maxResets + " streams reset in " + TimeUnit.NANOSECONDS.toSeconds(windowNanos) + "s";
    }
}
