package dev.portico.internal.server;

import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Identifies a listener across reloads: its address, and which of the listeners with that address it is (port
 * 0 may be listed several times, each binding a port of its own).
 */
record ListenerKey(ListenAddress address, int occurrence) {
    static List<ListenerKey> of(List<ListenerConfig> listen) {
        List<ListenerKey> keys = new ArrayList<>();
        Map<ListenAddress, Integer> seen = new java.util.HashMap<>();
        for (ListenerConfig l : listen) {
            keys.add(new ListenerKey(l.address(), seen.merge(l.address(), 1, Integer::sum)));
        }
        return keys;
    }

    /**
     * Which bound listener each listener of a new configuration keeps: the one with the same address first, else
     * (for a fixed port) the one bound to the same socket address under another spelling or other options
     * ({@code localhost} for {@code 127.0.0.1}, {@code h2c} turned on), which could not be bound twice.
     *
     * @param listeners the bound listeners
     * @return per listener of {@code listen}, the bound listener it keeps, or {@code null} for one to bind
     */
    static Listener[] match(Map<ListenerKey, Listener> listeners, List<ListenerConfig> listen,
                            List<ListenerKey> keys) {
        Listener[] out = new Listener[listen.size()];
        Set<Listener> taken = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < out.length; i++) {
            Listener l = listeners.get(keys.get(i));
            if (l != null) {
                out[i] = l;
                taken.add(l);
            }
        }
        for (int i = 0; i < out.length; i++) {
            ListenAddress a = listen.get(i).address();
            if (out[i] != null || a.port() == 0) {
                continue;
            }
            InetSocketAddress wanted = new InetSocketAddress(a.host(), a.port());
            for (Listener l : listeners.values()) {
                if (!taken.contains(l) && !wanted.isUnresolved() && wanted.equals(l.channel().localAddress())) {
                    out[i] = l;
                    taken.add(l);
                    break;
                }
            }
        }
        return out;
    }

    /** @return the key {@code l} is bound under */
    static ListenerKey of(Map<ListenerKey, Listener> listeners, Listener l) {
        for (Map.Entry<ListenerKey, Listener> e : listeners.entrySet()) {
            if (e.getValue() == l) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("not a bound listener");
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof ListenerKey other && Objects.equals(address, other.address)
                && occurrence == other.occurrence;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(address, occurrence);
    }
}
