package dev.portico.internal.server;

import dev.portico.internal.metrics.Metrics;
import dev.portico.internal.proxy.AccessLog;
import dev.portico.internal.proxy.BufferBudget;
import dev.portico.internal.upstream.UpstreamPool;
import java.util.Collection;
import java.util.List;

/** The gauges of a running proxy, read at each scrape from the state the proxy keeps anyway. */
final class RuntimeMeters {
    private RuntimeMeters() {
    }

    static void register(Metrics metrics, ConnectionRegistry connections, Collection<UpstreamPool> pools,
                         AccessLog accessLog, BufferBudget buffered) {
        List<UpstreamPool> all = List.copyOf(pools);
        metrics.gauge("portico.client.connections.active", "Open client connections", connections::serving);
        metrics.gauge("portico.upstream.connections", "state", "active",
                "Upstream connections: lent to an exchange (active) or pooled (idle)", all, RuntimeMeters::active);
        metrics.gauge("portico.upstream.connections", "state", "idle",
                "Upstream connections: lent to an exchange (active) or pooled (idle)", all, RuntimeMeters::idle);
        metrics.gauge("portico.buffered.bytes", "Response bytes held for clients that have not taken them yet "
                + "(limits.max_buffered_bytes)", buffered::held);
        metrics.counter("portico.access.log.dropped", "Access log lines dropped because the writer fell behind",
                accessLog::dropped);
    }

    private static double active(List<UpstreamPool> pools) {
        long n = 0;
        for (UpstreamPool p : pools) {
            n += Math.max(0, p.openConnections() - p.idleConnections());
        }
        return n;
    }

    private static double idle(List<UpstreamPool> pools) {
        long n = 0;
        for (UpstreamPool p : pools) {
            n += p.idleConnections();
        }
        return n;
    }
}
