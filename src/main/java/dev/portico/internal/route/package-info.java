/**
 * Request routing: the immutable {@link dev.portico.internal.route.Router} picks a {@link dev.portico.internal.route.Route} by Host
 * (exact names, then {@code *.suffix} wildcards, then routes for any host) and the longest path prefix on a segment
 * boundary. Lookups cost a few hash probes per path segment, whatever the number of routes.
 */
package dev.portico.internal.route;
