package dev.portico.route;

import dev.portico.config.RouteConfig;
import dev.portico.tls.UpstreamTlsClient;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A route ready for the data path: its config, the backend's resolved address and its effective body limit.
 */
public final class Route {
    private final RouteConfig config;
    private final InetSocketAddress endpoint;
    private final long maxRequestBody;
    private final String endpointText;
    private final UpstreamTlsClient upstreamTls;

    /**
     * @param config the route's configuration
     * @param endpoint the backend address, resolved off the event loop
     * @param maxRequestBody the body limit in bytes, 0 for unlimited
     */
    public Route(RouteConfig config, InetSocketAddress endpoint, long maxRequestBody) {
        this(config, endpoint, maxRequestBody, null);
    }

    /**
     * @param config the route's configuration
     * @param endpoint the backend address, resolved off the event loop
     * @param maxRequestBody the body limit in bytes, 0 for unlimited
     * @param upstreamTls how to secure connections to an {@code https://} backend, {@code null} for {@code http://}
     */
    public Route(RouteConfig config, InetSocketAddress endpoint, long maxRequestBody, UpstreamTlsClient upstreamTls) {
        this.config = Objects.requireNonNull(config, "config");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.maxRequestBody = maxRequestBody;
        this.endpointText = endpoint.getHostString() + ":" + endpoint.getPort();
        this.upstreamTls = upstreamTls;
    }

    /** @return how connections to the backend are secured, or {@code null} for plain HTTP */
    public UpstreamTlsClient upstreamTls() {
        return upstreamTls;
    }

    /** @return the backend as {@code host:port}, for log lines */
    public String endpointText() {
        return endpointText;
    }

    /** @return the route's configuration */
    public RouteConfig config() {
        return config;
    }

    /** @return the backend address */
    public InetSocketAddress endpoint() {
        return endpoint;
    }

    /** @return the body limit in bytes, 0 for unlimited */
    public long maxRequestBody() {
        return maxRequestBody;
    }

    /**
     * The origin-form target to send upstream: the upstream path, then the request path (without the prefix if
     * {@code strip_prefix}), then the query, byte for byte.
     *
     * @param path the request's raw path, starting with {@code /}, matched by this route
     * @param query the raw query including its {@code ?}, or {@code ""}
     * @return the upstream request target
     */
    public String upstreamTarget(String path, String query) {
        String rest = path;
        if (config.stripPrefix() && !config.path().equals("/")) {
            rest = path.substring(config.path().length());
            if (rest.isEmpty() || rest.charAt(0) != '/') {
                rest = "/" + rest;
            }
        }
        String base = config.upstream().path();
        if (base.isEmpty()) {
            return query.isEmpty() ? rest : rest + query;
        }
        return base + rest + query;
    }

    @Override
    public String toString() {
        return (config.host().isEmpty() ? "" : config.host()) + config.path() + " -> " + config.upstream();
    }
}
