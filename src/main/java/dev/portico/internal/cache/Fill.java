package dev.portico.internal.cache;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One response being stored as it streams to the client that asked for it: the tap on its body, and the requests
 * for the same URL that wait for it (coalesced misses). Bytes are copied into heap arrays as they pass, so nothing of
 * the exchange's buffers is retained; a body that crosses {@code max_object_size} is dropped on the spot while the
 * client still gets it all. The body parts come on the filling exchange's event loop; waiters join from others.
 */
final class Fill implements ExchangeHooks.BodyTap {
    /** A request waiting for the fill: told the entry (or {@code null}: go to the backend) once it ends. */
    interface Waiter {
        void done(Entry entry);
    }

    final String key;
    private final CacheStore store;
    private final long maxObjectSize;
    private final List<Waiter> waiters = new ArrayList<>();
    private boolean ended;
    /** Set once the head is known to be storable; until then body parts are not kept. */
    private Head head;
    private List<byte[]> chunks;
    private long length;

    /** What the entry is made of besides its body. */
    record Head(String host, String pathAndQuery, Map<String, String> vary, int status, HttpHeaders headers,
                long requestTime, long responseTime, boolean heuristic) {
    }

    Fill(String key, CacheStore store, long maxObjectSize) {
        this.key = key;
        this.store = store;
        this.maxObjectSize = maxObjectSize;
    }

    synchronized boolean acceptsWaiters() {
        return !ended;
    }

    /** @return whether the waiter joined; false if the fill already ended (then look again) */
    synchronized boolean join(Waiter w) {
        if (ended) {
            return false;
        }
        waiters.add(w);
        return true;
    }

    synchronized int waiting() {
        return waiters.size();
    }

    /** The response is storable: keep its body from now on. */
    void begin(Head h) {
        this.head = h;
        this.chunks = new ArrayList<>();
    }

    /** The response is not stored: the waiters go to the backend themselves. */
    void cancel() {
        end(null);
    }

    @Override
    public void onContent(ByteBuf content, boolean last) {
        if (chunks != null) {
            int n = content.readableBytes();
            if (length + n > maxObjectSize) {
                chunks = null; // too large after all: drop what was kept, the client still gets every byte
                end(null);
                return;
            }
            if (n > 0) {
                byte[] b = new byte[n];
                content.getBytes(content.readerIndex(), b);
                chunks.add(b);
                length += n;
            }
        }
        if (last) {
            if (chunks == null) {
                end(null);
                return;
            }
            Head h = head;
            byte[][] body = chunks.toArray(new byte[0][]);
            chunks = null;
            h.headers().set("content-length", Long.toString(length));
            Entry e = new Entry(key, h.host(), h.pathAndQuery(), h.vary(), h.status(), h.headers(), body, length,
                    h.requestTime(), h.responseTime(), h.heuristic());
            store.put(e);
            end(e);
        }
    }

    /** Others wait for this body: it is read to its end even if the client that asked for it went away. */
    @Override
    public synchronized boolean stillWanted() {
        return chunks != null && !waiters.isEmpty();
    }

    /** The fill ends with an entry made otherwise (a freshened one after a 304). */
    void completeWith(Entry e) {
        chunks = null;
        end(e);
    }

    @Override
    public void onAbort() {
        chunks = null;
        end(null);
    }

    private void end(Entry e) {
        List<Waiter> ws;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            ws = new ArrayList<>(waiters);
            waiters.clear();
        }
        store.fillEnded(this);
        for (Waiter w : ws) {
            w.done(e);
        }
    }
}
