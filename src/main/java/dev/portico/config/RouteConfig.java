package dev.portico.config;

import java.util.List;
import java.util.Objects;

/**
 * One route: requests whose Host matches {@code host} (if set) and whose path starts with {@code path} on a
 * segment boundary go to {@code upstream}.
 *
 * @param path the path prefix, starting with {@code /}, without a trailing slash (but {@code /} itself)
 * @param host {@code ""} for any host, an exact lower-case host name, or a {@code *.suffix} wildcard
 * @param upstream the backend servers: a named upstream, or an unnamed one the route defines by URL
 * @param stripPrefix whether the matched prefix is removed before the upstream path is prepended
 * @param maxRequestBody the body limit in bytes for this route, 0 for unlimited, or {@link #INHERIT} to use
 *     {@code limits.max_request_body}
 * @param policies the route's own policies, in order (after {@code default_policies} unless skipped)
 * @param skipDefaultPolicies whether the configuration's {@code default_policies} do not apply to this route
 * @param grpcWeb {@code grpc_web}: gRPC-Web requests ({@code application/grpc-web}, {@code -web+proto},
 *     {@code -web-text}) go to the backend as gRPC, and its responses come back as gRPC-Web with the trailers in
 *     the body
 */
public record RouteConfig(String path, String host, UpstreamConfig upstream, boolean stripPrefix,
                          long maxRequestBody, List<PolicyConfig> policies, boolean skipDefaultPolicies,
                          boolean grpcWeb) {
    /** The {@code maxRequestBody} value that defers to the global limit. */
    public static final long INHERIT = -1;

    /** Validates and normalizes the path and host. */
    public RouteConfig {
        path = ConfigValues.routePath(path);
        host = ConfigValues.routeHost(host);
        Objects.requireNonNull(upstream, "upstream");
        ConfigValues.inRange(maxRequestBody, INHERIT, Long.MAX_VALUE, "max_request_body");
        policies = List.copyOf(policies);
        for (PolicyConfig p : policies) {
            if (p instanceof RewritePolicyConfig && stripPrefix) {
                throw new IllegalArgumentException("policies cannot combine rewrite with strip_prefix (ambiguous): "
                        + "let the rewrite's regex drop the prefix instead");
            }
        }
    }

    /**
     * A route without {@code grpc_web}.
     *
     * @param path the path prefix
     * @param host the host, {@code ""} for any
     * @param upstream the backend servers
     * @param stripPrefix whether the prefix is stripped
     * @param maxRequestBody the body limit, or {@link #INHERIT}
     * @param policies the route's own policies, in order
     * @param skipDefaultPolicies whether {@code default_policies} do not apply
     */
    public RouteConfig(String path, String host, UpstreamConfig upstream, boolean stripPrefix, long maxRequestBody,
                       List<PolicyConfig> policies, boolean skipDefaultPolicies) {
        this(path, host, upstream, stripPrefix, maxRequestBody, policies, skipDefaultPolicies, false);
    }

    /**
     * A route without policies of its own.
     *
     * @param path the path prefix
     * @param host the host, {@code ""} for any
     * @param upstream the backend servers
     * @param stripPrefix whether the prefix is stripped
     * @param maxRequestBody the body limit, or {@link #INHERIT}
     */
    public RouteConfig(String path, String host, UpstreamConfig upstream, boolean stripPrefix, long maxRequestBody) {
        this(path, host, upstream, stripPrefix, maxRequestBody, List.of(), false);
    }

    /**
     * @param value the route's own policies, in order
     * @return a copy of this route with those policies
     */
    public RouteConfig withPolicies(List<PolicyConfig> value) {
        return new RouteConfig(path, host, upstream, stripPrefix, maxRequestBody, value, skipDefaultPolicies,
                grpcWeb);
    }

    /**
     * @param value whether {@code default_policies} do not apply
     * @return a copy of this route with that setting
     */
    public RouteConfig withSkipDefaultPolicies(boolean value) {
        return new RouteConfig(path, host, upstream, stripPrefix, maxRequestBody, policies, value, grpcWeb);
    }

    /**
     * @param value {@code grpc_web}
     * @return a copy of this route with that setting
     */
    public RouteConfig withGrpcWeb(boolean value) {
        return new RouteConfig(path, host, upstream, stripPrefix, maxRequestBody, policies, skipDefaultPolicies,
                value);
    }

    /**
     * A route to one backend URL, with the upstream defaults.
     *
     * @param path the path prefix
     * @param host the host, {@code ""} for any
     * @param upstream the backend URL
     * @param stripPrefix whether the prefix is stripped
     * @param maxRequestBody the body limit, or {@link #INHERIT}
     */
    public RouteConfig(String path, String host, UpstreamUrl upstream, boolean stripPrefix, long maxRequestBody) {
        this(path, host, UpstreamConfig.of(upstream), stripPrefix, maxRequestBody);
    }

    /**
     * A route to one {@code https://} backend URL with its TLS settings, and the other upstream defaults.
     *
     * @param path the path prefix
     * @param host the host, {@code ""} for any
     * @param upstream the backend URL
     * @param stripPrefix whether the prefix is stripped
     * @param maxRequestBody the body limit, or {@link #INHERIT}
     * @param upstreamTls the TLS settings, or {@code null} for the defaults
     */
    public RouteConfig(String path, String host, UpstreamUrl upstream, boolean stripPrefix, long maxRequestBody,
                       UpstreamTlsConfig upstreamTls) {
        this(path, host, upstreamTls == null ? UpstreamConfig.of(upstream)
                : UpstreamConfig.of(upstream).withTls(upstreamTls), stripPrefix, maxRequestBody);
    }

    /** @return the TLS settings of the upstream's {@code https://} servers, {@code null} if it has none */
    public UpstreamTlsConfig upstreamTls() {
        return upstream.tls();
    }

    /**
     * A route for any host, without prefix stripping or body limit override.
     *
     * @param path the path prefix
     * @param upstream the backend URL
     * @return the route
     */
    public static RouteConfig of(String path, String upstream) {
        return new RouteConfig(path, "", UpstreamConfig.of(UpstreamUrl.parse(upstream)), false, INHERIT);
    }

    /**
     * @param path the path prefix
     * @return a builder for a route with that prefix, for any host; an upstream must be given
     */
    public static Builder builder(String path) {
        return new Builder(path);
    }

    /** Builds a {@link RouteConfig}; each method maps to a key of a route in YAML. Not thread-safe. */
    public static final class Builder {
        private final String path;
        private String host = "";
        private UpstreamConfig upstream;
        private UpstreamTlsConfig upstreamTls;
        private boolean stripPrefix;
        private long maxRequestBody = INHERIT;
        private final List<PolicyConfig> policies = new java.util.ArrayList<>();
        private boolean skipDefaultPolicies;
        private boolean grpcWeb;

        private Builder(String path) {
            this.path = Objects.requireNonNull(path, "path");
        }

        /**
         * @param value {@code host}: an exact host or a {@code *.suffix} wildcard
         * @return this
         */
        public Builder host(String value) {
            this.host = Objects.requireNonNull(value, "host");
            return this;
        }

        /**
         * @param url {@code upstream}: a backend URL
         * @return this
         */
        public Builder upstream(String url) {
            this.upstream = UpstreamConfig.of(UpstreamUrl.parse(url));
            return this;
        }

        /**
         * @param value {@code upstream}: a named upstream's configuration, or servers with their settings
         * @return this
         */
        public Builder upstream(UpstreamConfig value) {
            this.upstream = Objects.requireNonNull(value, "upstream");
            return this;
        }

        /**
         * Sets {@code upstream} to servers with their settings, e.g.
         * {@code upstream(u -> u.servers("http://10.0.0.5:9000", "http://10.0.0.6:9000").balance(...))}. An
         * upstream several routes share is better built once with {@link UpstreamConfig#builder(String)}.
         *
         * @param value sets the upstream's keys, starting from an unnamed upstream with the defaults
         * @return this
         */
        public Builder upstream(java.util.function.UnaryOperator<UpstreamConfig.Builder> value) {
            this.upstream = value.apply(UpstreamConfig.builder()).build();
            return this;
        }

        /**
         * @param value sets {@code upstream_tls} keys, starting from {@link UpstreamTlsConfig#DEFAULTS}
         * @return this
         */
        public Builder upstreamTls(java.util.function.UnaryOperator<UpstreamTlsConfig.Builder> value) {
            this.upstreamTls = value.apply(UpstreamTlsConfig.builder()).build();
            return this;
        }

        /**
         * @param value {@code upstream_tls}, for an https URL upstream
         * @return this
         */
        public Builder upstreamTls(UpstreamTlsConfig value) {
            this.upstreamTls = Objects.requireNonNull(value, "upstreamTls");
            return this;
        }

        /**
         * @param value {@code strip_prefix}
         * @return this
         */
        public Builder stripPrefix(boolean value) {
            this.stripPrefix = value;
            return this;
        }

        /**
         * @param bytes {@code max_request_body}, 0 for unlimited
         * @return this
         */
        public Builder maxRequestBody(long bytes) {
            this.maxRequestBody = bytes;
            return this;
        }

        /**
         * @param value {@code policies}: appended in order
         * @return this
         */
        public Builder policies(PolicyConfig... value) {
            for (PolicyConfig p : value) {
                policies.add(Objects.requireNonNull(p, "policy"));
            }
            return this;
        }

        /**
         * @param value a policy of one's own, appended to {@code policies}
         * @return this
         */
        public Builder policy(dev.portico.policy.Policy value) {
            policies.add(CustomPolicyConfig.of(value));
            return this;
        }

        /**
         * @param value {@code skip_default_policies}
         * @return this
         */
        public Builder skipDefaultPolicies(boolean value) {
            this.skipDefaultPolicies = value;
            return this;
        }

        /**
         * @param value {@code grpc_web}: translate gRPC-Web requests to gRPC and the responses back
         * @return this
         */
        public Builder grpcWeb(boolean value) {
            this.grpcWeb = value;
            return this;
        }

        /**
         * @return the route
         * @throws IllegalArgumentException if a value is invalid or no upstream was given
         */
        public RouteConfig build() {
            if (upstream == null) {
                throw new IllegalArgumentException("upstream is required");
            }
            UpstreamConfig u = upstreamTls == null ? upstream : upstream.withTls(upstreamTls);
            return new RouteConfig(path, host, u, stripPrefix, maxRequestBody, policies, skipDefaultPolicies,
                    grpcWeb);
        }
    }
}
