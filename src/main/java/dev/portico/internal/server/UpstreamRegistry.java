package dev.portico.internal.server;

import dev.portico.internal.balance.DnsRefresher;
import dev.portico.internal.balance.HealthChecker;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.ConfigException;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.internal.route.Route;
import dev.portico.internal.tls.TlsRuntime;
import dev.portico.internal.tls.UpstreamTlsClient;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The live upstreams of a running proxy: one {@link UpstreamGroup} per distinct upstream configuration, with its
 * DNS re-resolution, TLS clients and active health check. A reload keeps the groups whose configuration did not
 * change (and so their health and ejection state), starts the new ones and retires those no route names any more.
 * Used from the thread that starts or reloads the proxy, never an event loop.
 */
final class UpstreamRegistry {
    /** How long past its TTL a backend address outlives failed re-resolution. */
    private static final Duration DNS_GRACE = Duration.ofMinutes(5);

    private final EventLoopGroup loops;
    private final Class<? extends Channel> socketClass;
    private final DnsRefresher dns;
    /** By configuration (records compare by value): an unchanged upstream keeps its group across reloads. */
    private final Map<UpstreamConfig, UpstreamGroup> groups = new LinkedHashMap<>();
    private final Map<UpstreamGroup, HealthChecker> checkers = new IdentityHashMap<>();
    /** Watches the TLS files of the upstreams. */
    private final TlsRuntime tls;

    UpstreamRegistry(EventLoopGroup loops, Class<? extends Channel> socketClass,
                     Class<? extends DatagramChannel> datagramClass, TlsRuntime tls) {
        this.loops = loops;
        this.tls = tls;
        this.socketClass = socketClass;
        this.dns = new DnsRefresher(loops.next(), datagramClass, null, DNS_GRACE);
    }

    /**
     * The routes of {@code config}, each with its upstream's live state: a named upstream is shared by the routes
     * naming it, a route's own URLs make an upstream of their own. New upstreams are resolved before this returns;
     * their health checks start with {@link #retain}.
     *
     * @throws UncheckedIOException if a backend name does not resolve
     * @throws ConfigException if a TLS file of a new upstream is missing or bad
     */
    synchronized List<Route> routes(ProxyConfig config) {
        Map<UpstreamConfig, UpstreamGroup> fresh = new HashMap<>();
        List<CompletableFuture<Void>> resolving = new ArrayList<>();
        List<Route> routes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Set<UpstreamGroup> rechecked = Collections.newSetFromMap(new IdentityHashMap<>());
        long handshakeMillis = config.timeouts().connect().toMillis();
        for (int i = 0; i < config.routes().size(); i++) {
            RouteConfig rc = config.routes().get(i);
            UpstreamConfig u = rc.upstream();
            UpstreamGroup g = groups.get(u);
            if (g != null && rechecked.add(g)) {
                // Equal settings name the same files, not the same contents: a rotated CA or client certificate
                // takes effect on reload, as it does when the watcher sees it.
                for (UpstreamTlsClient c : g.tlsClients()) {
                    try {
                        c.reloadIfChanged();
                    } catch (IllegalArgumentException e) {
                        problems.add(e.getMessage());
                    }
                }
            }
            if (g == null) {
                g = fresh.get(u);
            }
            if (g == null) {
                String keyPath = u.name().isEmpty() ? "routes[" + i + "].upstream_tls" : "upstreams." + u.name() + ".tls";
                try {
                    g = new UpstreamGroup(u, u.name().isEmpty() ? (rc.host().isEmpty() ? "" : rc.host()) + rc.path()
                            : u.name(), TlsRuntime.upstreamClients(u, keyPath, handshakeMillis));
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                    continue;
                }
                fresh.put(u, g);
                resolving.add(dns.add(g));
            }
            long limit = rc.maxRequestBody() == RouteConfig.INHERIT ? config.limits().maxRequestBody()
                    : rc.maxRequestBody();
            routes.add(new Route(rc, g, limit));
        }
        if (!problems.isEmpty()) {
            fresh.values().forEach(UpstreamGroup::close);
            throw new ConfigException("configuration", problems);
        }
        try {
            CompletableFuture.allOf(resolving.toArray(new CompletableFuture[0]))
                    .get(config.timeouts().connect().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            fresh.values().forEach(UpstreamGroup::close);
            throw failure(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            fresh.values().forEach(UpstreamGroup::close);
            throw failure("backend names did not resolve in time", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fresh.values().forEach(UpstreamGroup::close);
            throw failure("interrupted while resolving backend names", e);
        }
        groups.putAll(fresh);
        fresh.values().forEach(g -> tls.watch(g.tlsClients()));
        return routes;
    }

    /**
     * The routes now served are {@code routes}: start the health checks of their new upstreams, and retire the
     * upstreams no route names any more (their checks and re-resolution stop; exchanges in flight finish).
     */
    synchronized void retain(List<Route> routes) {
        Set<UpstreamGroup> used = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Route r : routes) {
            used.add(r.upstream());
        }
        groups.values().removeIf(g -> {
            if (used.contains(g)) {
                return false;
            }
            g.close();
            tls.unwatch(g.tlsClients());
            HealthChecker c = checkers.remove(g);
            if (c != null) {
                c.close();
            }
            return true;
        });
        for (UpstreamGroup g : used) {
            if (g.config().healthCheck() != null && !checkers.containsKey(g)) {
                HealthChecker c = new HealthChecker(g, loops.next(), socketClass);
                checkers.put(g, c);
                c.start();
            }
        }
    }

    /** @return the live upstreams */
    synchronized List<UpstreamGroup> upstreams() {
        return List.copyOf(groups.values());
    }

    /** Stops every health check and re-resolution. */
    synchronized void close() {
        checkers.values().forEach(HealthChecker::close);
        checkers.clear();
        groups.values().forEach(UpstreamGroup::close);
        dns.close();
    }

    private static UncheckedIOException failure(String message, Throwable cause) {
        return new UncheckedIOException(message, new IOException(message, cause));
    }
}
