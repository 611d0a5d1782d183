package dev.portico.internal.cache;

import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.internal.upstream.UpstreamPool;
import io.netty.util.concurrent.EventExecutor;

/**
 * A route's backend as the route's exchanges reach it, seen from one request: for the requests the cache makes on
 * its own, tied to no client (a background revalidation). Given by the exchange's admission; read on the request's
 * event loop when the cache starts such a request, and not kept.
 */
public interface Origin {
    /** @return the request's event loop, where the cache's own request runs */
    EventExecutor loop();

    /** @return the upstream connection pool of that loop */
    UpstreamPool pool();

    /** @return the route's upstream: its endpoints, balancer and limits */
    UpstreamGroup group();

    /**
     * @param path the request path, as the policies before the cache left it
     * @param query the query with its {@code ?}, or {@code ""}
     * @return the request target the route sends upstream for them ({@code strip_prefix}, the upstream's path)
     */
    String target(String path, String query);

    /** @return the {@code Host} the route's exchanges send for this request */
    String authority();

    /** @return the {@code X-Forwarded-Host} the route's exchanges send for this request (the client's Host), or null */
    String forwardedHost();

    /** @return how long the backend may take to answer, in milliseconds ({@code timeouts.response}) */
    long responseTimeoutMillis();
}
