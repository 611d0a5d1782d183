package dev.portico.internal.server;

import dev.portico.config.Cidr;
import dev.portico.config.OperationsConfig;
import dev.portico.internal.policy.PolicyChain;
import dev.portico.internal.policy.PolicyRegistry;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.metrics.Metrics;
import dev.portico.internal.metrics.RouteMetrics;
import dev.portico.internal.proxy.AccessLog;
import dev.portico.internal.proxy.Correlation;
import dev.portico.internal.proxy.ExchangeHost;
import dev.portico.internal.proxy.ExchangeLog;
import dev.portico.internal.route.Route;
import dev.portico.internal.route.Router;
import dev.portico.internal.trace.Tracing;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import io.opentelemetry.api.trace.Span;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an exchange takes from the configuration: the config, its router, and each route's labels and meters.
 * Immutable; a reload swaps it whole, and each exchange reads it once, so exchanges in flight finish on theirs.
 */
final class Snapshot {
    final ProxyConfig config;
    final Router router;
    /** The routes, each with its upstream's live state. */
    final List<Route> routeList;
    /** The request id field, or null when request ids are off. */
    final AsciiString requestIdName;
    final boolean generateTraceparent;
    /** The policies' instances for this configuration; becomes the runtime's when the snapshot is applied. */
    final PolicyRegistry policies;
    /** The chain of responses without a route: the default policies. */
    final PolicyChain defaultChain;
    /** The spans of this configuration, or {@code null} when no span is exported ({@code tracing.otlp}). */
    final Tracing tracing;
    /** {@code trusted_proxies}, empty when none. */
    final List<Cidr> trustedProxies;
    private final Map<Route, RouteInfo> routes;

    private record RouteInfo(String label, RouteMetrics metrics) {
    }

    Snapshot(ProxyConfig config, List<Route> routes, Metrics metrics) {
        this(config, routes, metrics, PolicyRegistry.empty(metrics, null).next(config));
    }

    /**
     * @param config the configuration
     * @param resolved its routes, each with its upstream's live state
     * @param metrics the meter registry
     * @param policies the policy instances made for {@code config}
     */
    Snapshot(ProxyConfig config, List<Route> resolved, Metrics metrics, PolicyRegistry policies) {
        this(config, resolved, metrics, policies, null);
    }

    /**
     * @param config the configuration
     * @param resolved its routes, each with its upstream's live state
     * @param metrics the meter registry
     * @param policies the policy instances made for {@code config}
     * @param tracing the span export of {@code config}, or {@code null} for none
     */
    Snapshot(ProxyConfig config, List<Route> resolved, Metrics metrics, PolicyRegistry policies, Tracing tracing) {
        this.tracing = tracing;
        this.policies = policies;
        this.defaultChain = policies.defaultChain(config);
        this.trustedProxies = config.policies().trustedProxies();
        List<Route> routes = new java.util.ArrayList<>(resolved.size());
        for (Route r : resolved) {
            PolicyChain chain = policies.chain(r.config(), config);
            routes.add(chain.isEmpty() ? r : new Route(r.config(), r.upstream(), r.maxRequestBody(), chain));
        }
        this.config = config;
        this.routeList = List.copyOf(routes);
        this.router = new Router(routes);
        OperationsConfig ops = config.operations();
        this.requestIdName = ops.requestIdEnabled() ? AsciiString.cached(ops.requestIdHeader()) : null;
        this.generateTraceparent = ops.generateTraceparent();
        this.routes = new IdentityHashMap<>(routes.size() * 2);
        for (Route r : routes) {
            String label = label(r);
            // Meter sets are looked up here, off the data path; nothing is registered until a route's first use.
            this.routes.put(r, new RouteInfo(label, metrics.route(label, r.config().upstream().toString())));
        }
    }

    /** @return the meter sets of this snapshot's routes, in configuration order */
    java.util.List<RouteMetrics> routeMetrics() {
        java.util.List<RouteMetrics> out = new java.util.ArrayList<>(routes.size());
        for (Route r : routeList) {
            out.add(routes.get(r).metrics());
        }
        return out;
    }

    /**
     * @param route a route of this snapshot
     * @return its meter set
     */
    RouteMetrics routeMetrics(Route route) {
        return routes.get(route).metrics();
    }

    /** @return the route's label in metrics and logs: its host, if any, then its path prefix */
    static String label(Route r) {
        return r.config().host().isEmpty() ? r.config().path() : r.config().host() + r.config().path();
    }

    /**
     * Settles the request's id and trace context (setting them on the request, which the backend gets) and makes
     * the exchange's log. {@code admittedNanos} ({@link System#nanoTime}) is when the request was admitted, if its
     * policies ran since, else 0 (now).
     */
    ExchangeLog exchangeLog(ExchangeHost host, AccessLog accessLog, HttpRequest request, String client,
                            Route route, long admittedNanos) {
        RouteInfo info = routes.get(route);
        String requestId = requestIdName == null ? null : Correlation.requestId(request.headers(), requestIdName);
        // The span first: its sampling reads the traceparent as the client sent it, before one is generated.
        Span span = tracing == null ? null : tracing.server(request, route.config().path(), client,
                host instanceof RequestSide side && side.secure(), admittedNanos);
        String traceId = span != null ? span.getSpanContext().getTraceId()
                : Correlation.traceId(request.headers(), generateTraceparent, tracing == null);
        ExchangeLog log = new ExchangeLog(host, accessLog, request, client, route, info.label(), info.metrics(),
                requestIdName, requestId, traceId);
        if (span != null) {
            log.trace(tracing, span);
        }
        return log;
    }
}
