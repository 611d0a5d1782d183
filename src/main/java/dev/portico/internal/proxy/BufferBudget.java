package dev.portico.internal.proxy;

import java.util.concurrent.atomic.LongAdder;

/**
 * The response bytes Portico holds for clients that have not taken them yet (written to a client channel, not yet
 * on the wire: a client that does not read, an HTTP/2 stream whose flow-control window is shut), across every
 * connection and event loop, against {@code limits.max_buffered_bytes}. Over the budget, new requests are refused
 * (503, or REFUSED_STREAM on HTTP/2) so that the memory already held drains instead of growing until allocations
 * fail on the event loops; exchanges under way go on, each bounded by its own backpressure.
 */
public final class BufferBudget {
    private final LongAdder held = new LongAdder();
    private volatile long limit;

    /** @param limit the budget in bytes, 0 for none */
    public BufferBudget(long limit) {
        this.limit = limit;
    }

    /** @param limit the budget in bytes from now on, 0 for none (a reload) */
    public void limit(long limit) {
        this.limit = limit;
    }

    /** @return whether the bytes held reach the budget, so new work should be refused */
    public boolean exhausted() {
        long l = limit;
        return l > 0 && held.sum() >= l;
    }

    /** @return the bytes held now */
    public long held() {
        return held.sum();
    }

    void add(long bytes) {
        held.add(bytes);
    }

    void release(long bytes) {
        held.add(-bytes);
    }
}
