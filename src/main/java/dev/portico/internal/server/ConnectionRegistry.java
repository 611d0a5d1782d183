package dev.portico.internal.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy's open client connections, for draining and closing them: those of one listener when a reload removes
 * it, those that reached a protocol when the proxy stops. One entry per connection (a list node that is also the
 * listener on its close future) instead of an entry in each of two channel groups, which cost every open
 * connection two map nodes and three close-future listeners. Connections come and go on several event loops,
 * hence the lock; it is taken once when a connection opens and once when it closes.
 */
final class ConnectionRegistry {
    /** First and last entries; guarded by {@code this}. */
    private Entry head;
    private Entry tail;
    /** Entries that reached a protocol ({@link Entry#serving}); guarded by {@code this}. */
    private int serving;

    /**
     * One open connection; it leaves the registry when its channel closes. All fields but the links are set once.
     */
    final class Entry implements ChannelFutureListener {
        final Channel channel;
        /** The listener that accepted it, or {@code null} (a QUIC connection). */
        final FrontendInitializer listener;
        /** Counted for the proxy's shutdown: it speaks HTTP (a TLS connection once its handshake is done). */
        private boolean serving;
        private Entry prev;
        private Entry next;
        private boolean removed;

        private Entry(Channel channel, FrontendInitializer listener) {
            this.channel = channel;
            this.listener = listener;
        }

        /** The connection speaks HTTP now: the proxy's shutdown waits for it. */
        void serving() {
            synchronized (ConnectionRegistry.this) {
                if (!serving && !removed) {
                    serving = true;
                    ConnectionRegistry.this.serving++;
                }
            }
        }

        /** The channel closed. */
        @Override
        public void operationComplete(ChannelFuture future) {
            remove(this);
            if (listener != null) {
                listener.closed();
            }
        }
    }

    /**
     * Registers a connection until its channel closes.
     *
     * @param ch the connection
     * @param listener the listener that accepted it, or {@code null}
     * @param serving whether it speaks HTTP already (see {@link Entry#serving()})
     * @return its entry
     */
    Entry add(Channel ch, FrontendInitializer listener, boolean serving) {
        Entry e = new Entry(ch, listener);
        synchronized (this) {
            e.prev = tail;
            if (tail == null) {
                head = e;
            } else {
                tail.next = e;
            }
            tail = e;
            if (serving) {
                e.serving = true;
                this.serving++;
            }
        }
        ch.closeFuture().addListener(e);
        return e;
    }

    private synchronized void remove(Entry e) {
        if (e.removed) {
            return;
        }
        e.removed = true;
        if (e.prev == null) {
            head = e.next;
        } else {
            e.prev.next = e.next;
        }
        if (e.next == null) {
            tail = e.prev;
        } else {
            e.next.prev = e.prev;
        }
        e.prev = null;
        e.next = null;
        if (e.serving) {
            serving--;
        }
    }

    /** @return how many open connections speak HTTP */
    synchronized int serving() {
        return serving;
    }

    /** @return the open connections of {@code listener}, all of them if {@code null} */
    synchronized List<Channel> of(FrontendInitializer listener) {
        List<Channel> out = new ArrayList<>();
        for (Entry e = head; e != null; e = e.next) {
            if (listener == null || e.listener == listener) {
                out.add(e.channel);
            }
        }
        return out;
    }

    /** @return the open connections that speak HTTP */
    synchronized List<Channel> servingChannels() {
        List<Channel> out = new ArrayList<>();
        for (Entry e = head; e != null; e = e.next) {
            if (e.serving) {
                out.add(e.channel);
            }
        }
        return out;
    }
}
