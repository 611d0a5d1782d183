package dev.portico.testing;

import dev.portico.ProxyServer;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.internal.server.ProxyRuntime;
import java.lang.reflect.Field;
import java.util.List;

/** The live upstreams of a running proxy, for tests that check counters such as ejections and retries. */
public final class Upstreams {
    private Upstreams() {
    }

    /** @return the upstream named {@code name} (for an unnamed one: its route's host and path) */
    public static UpstreamGroup of(ProxyServer proxy, String name) {
        for (UpstreamGroup g : all(proxy)) {
            if (g.name().equals(name)) {
                return g;
            }
        }
        throw new AssertionError("no upstream named " + name + " in " + all(proxy));
    }

    /** @return every live upstream of {@code proxy} */
    public static List<UpstreamGroup> all(ProxyServer proxy) {
        // ProxyServer does not expose its runtime; the runtime lists its upstreams.
        try {
            Field f = ProxyServer.class.getDeclaredField("runtime");
            f.setAccessible(true);
            ProxyRuntime runtime = (ProxyRuntime) f.get(proxy);
            if (runtime == null) {
                throw new AssertionError("proxy not started");
            }
            return runtime.upstreams();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot reach the proxy's runtime", e);
        }
    }
}
