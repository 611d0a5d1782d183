package dev.portico.internal.route;

import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.RouteConfig;
import dev.portico.internal.policy.PolicyChain;
import java.util.Objects;

/**
 * A route ready for the data path: its config, the live upstream it sends to and its effective body limit.
 */
public final class Route {
    private final RouteConfig config;
    private final UpstreamGroup upstream;
    private final long maxRequestBody;
    private final PolicyChain policies;

    /**
     * @param config the route's configuration
     * @param upstream the upstream's live state (shared by every route naming it)
     * @param maxRequestBody the body limit in bytes, 0 for unlimited
     */
    public Route(RouteConfig config, UpstreamGroup upstream, long maxRequestBody) {
        this(config, upstream, maxRequestBody, PolicyChain.EMPTY);
    }

    /**
     * @param config the route's configuration
     * @param upstream the upstream's live state (shared by every route naming it)
     * @param maxRequestBody the body limit in bytes, 0 for unlimited
     * @param policies the route's chain: the default policies (unless skipped), then its own
     */
    public Route(RouteConfig config, UpstreamGroup upstream, long maxRequestBody, PolicyChain policies) {
        this.config = Objects.requireNonNull(config, "config");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.maxRequestBody = maxRequestBody;
        this.policies = Objects.requireNonNull(policies, "policies");
    }

    /** @return the route's policy chain ({@link PolicyChain#EMPTY} for none): a field read, no lookup */
    public PolicyChain policies() {
        return policies;
    }

    /** @return the route's configuration */
    public RouteConfig config() {
        return config;
    }

    /** @return the upstream this route sends to */
    public UpstreamGroup upstream() {
        return upstream;
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
