package dev.portico.config;

import java.util.Objects;

/**
 * One route: requests whose Host matches {@code host} (if set) and whose path starts with {@code path} on a
 * segment boundary go to {@code upstream}.
 *
 * @param path the path prefix, starting with {@code /}, without a trailing slash (but {@code /} itself)
 * @param host {@code ""} for any host, an exact lower-case host name, or a {@code *.suffix} wildcard
 * @param upstream the backend
 * @param stripPrefix whether the matched prefix is removed before the upstream path is prepended
 * @param maxRequestBody the body limit in bytes for this route, 0 for unlimited, or {@link #INHERIT} to use
 *     {@code limits.max_request_body}
 * @param upstreamTls how to talk TLS to an {@code https://} upstream ({@link UpstreamTlsConfig#DEFAULTS} if not
 *     given); {@code null} for an {@code http://} one
 */
public record RouteConfig(String path, String host, UpstreamUrl upstream, boolean stripPrefix, long maxRequestBody,
                          UpstreamTlsConfig upstreamTls) {
    /** The {@code maxRequestBody} value that defers to the global limit. */
    public static final long INHERIT = -1;

    /** Validates and normalizes the path and host. */
    public RouteConfig {
        path = ConfigValues.routePath(path);
        host = ConfigValues.routeHost(host);
        Objects.requireNonNull(upstream, "upstream");
        ConfigValues.inRange(maxRequestBody, INHERIT, Long.MAX_VALUE, "max_request_body");
        if (upstream.tls() && upstreamTls == null) {
            upstreamTls = UpstreamTlsConfig.DEFAULTS;
        } else if (!upstream.tls() && upstreamTls != null) {
            throw new IllegalArgumentException("upstream_tls needs an https:// upstream");
        }
    }

    /** A route with the default TLS settings for an {@code https://} upstream, none for an {@code http://} one. */
    public RouteConfig(String path, String host, UpstreamUrl upstream, boolean stripPrefix, long maxRequestBody) {
        this(path, host, upstream, stripPrefix, maxRequestBody, null);
    }

    /**
     * A route for any host, without prefix stripping or body limit override.
     *
     * @param path the path prefix
     * @param upstream the backend URL
     * @return the route
     */
    public static RouteConfig of(String path, String upstream) {
        return new RouteConfig(path, "", UpstreamUrl.parse(upstream), false, INHERIT, null);
    }
}
