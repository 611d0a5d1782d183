package dev.portico.config;

import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * What makes a running Portico observable and changeable: the admin endpoint, request ids, trace context, reload.
 *
 * @param adminListen the admin endpoint's address ({@code admin.listen}), or {@code null} for none (the default)
 * @param requestIdEnabled whether request ids are propagated and generated ({@code request_id.enabled})
 * @param requestIdHeader the request id field ({@code request_id.header})
 * @param generateTraceparent whether a {@code traceparent} is started for requests without one
 *     ({@code tracing.generate})
 * @param watch whether a change to the configuration file reloads it ({@code reload.watch})
 * @param admin the admin endpoint's TLS and authentication ({@code admin.tls}, {@code admin.auth},
 *     {@code admin.insecure})
 * @param tracing span export and sampling (the other keys of {@code tracing})
 */
public record OperationsConfig(ListenAddress adminListen, boolean requestIdEnabled, String requestIdHeader,
                               boolean generateTraceparent, boolean watch, AdminConfig admin,
                               TracingConfig tracing) {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** Default {@code request_id.header}. */
    public static final String DEFAULT_REQUEST_ID_HEADER = "X-Request-Id";
    /** The defaults: no admin endpoint, request ids in X-Request-Id, no generated traceparent, no file watch. */
    public static final OperationsConfig DEFAULTS = new OperationsConfig(null, true, DEFAULT_REQUEST_ID_HEADER,
            false, false);

    /**
     * Validates the header name (an RFC 9110 token), and that an admin endpoint reachable from the network has
     * authentication (or says {@code admin.insecure}).
     */
    public OperationsConfig {
        Objects.requireNonNull(tracing, "tracing");
        Objects.requireNonNull(requestIdHeader, "requestIdHeader");
        Objects.requireNonNull(admin, "admin");
        if (!TOKEN.matcher(requestIdHeader).matches()) {
            throw new IllegalArgumentException("not a valid header field name: \"" + requestIdHeader + "\"");
        }
        admin.checkExposure(adminListen);
    }

    /**
     * Settings with an unprotected admin endpoint (fit for a loopback address) and no span export.
     *
     * @param adminListen the admin endpoint's address, or {@code null} for none
     * @param requestIdEnabled whether request ids are propagated and generated
     * @param requestIdHeader the request id field
     * @param generateTraceparent whether a {@code traceparent} is started for requests without one
     * @param watch whether a change to the configuration file reloads it
     */
    public OperationsConfig(ListenAddress adminListen, boolean requestIdEnabled, String requestIdHeader,
                            boolean generateTraceparent, boolean watch) {
        this(adminListen, requestIdEnabled, requestIdHeader, generateTraceparent, watch, AdminConfig.NONE,
                TracingConfig.DEFAULTS);
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /**
     * Builds {@link OperationsConfig}. Its keys live in several YAML sections, so each method is named after the
     * whole key path: {@code admin.listen} is {@link #adminListen}, {@code tracing.generate} is
     * {@link #tracingGenerate}. Unset keys keep their defaults. Not thread-safe.
     */
    public static final class Builder {
        private ListenAddress adminListen;
        private boolean requestIdEnabled;
        private String requestIdHeader;
        private boolean tracingGenerate;
        private boolean reloadWatch;
        private AdminConfig admin;
        private TracingConfig tracing;

        Builder(OperationsConfig from) {
            admin = from.admin;
            tracing = from.tracing;
            adminListen = from.adminListen;
            requestIdEnabled = from.requestIdEnabled;
            requestIdHeader = from.requestIdHeader;
            tracingGenerate = from.generateTraceparent;
            reloadWatch = from.watch;
        }

        /**
         * @param hostPort {@code admin.listen}: the admin endpoint's {@code host:port}, or {@code null} for none
         * @return this
         * @throws IllegalArgumentException if it is not {@code host:port}
         */
        public Builder adminListen(String hostPort) {
            adminListen = hostPort == null ? null : ListenAddress.parse(hostPort);
            return this;
        }

        /**
         * @param value {@code request_id.enabled}: whether request ids are propagated and generated
         * @return this
         */
        public Builder requestIdEnabled(boolean value) {
            requestIdEnabled = value;
            return this;
        }

        /**
         * @param name {@code request_id.header}: the request id field
         * @return this
         */
        public Builder requestIdHeader(String name) {
            requestIdHeader = name;
            return this;
        }

        /**
         * @param value {@code tracing.generate}: whether a {@code traceparent} is started for requests without one
         * @return this
         */
        public Builder tracingGenerate(boolean value) {
            tracingGenerate = value;
            return this;
        }

        /**
         * @param value the other keys of {@code tracing}: span export and sampling
         * @return this
         */
        public Builder tracing(TracingConfig value) {
            tracing = java.util.Objects.requireNonNull(value, "tracing");
            return this;
        }

        /**
         * Sets the other keys of {@code tracing}, e.g. {@code t -> t.otlp("http://collector:4318").samplerRatio(0.1)}.
         *
         * @param tracing changes to the current settings
         * @return this
         */
        public Builder tracing(java.util.function.UnaryOperator<TracingConfig.Builder> tracing) {
            return tracing(tracing.apply(this.tracing.toBuilder()).build());
        }

        /**
         * @param value {@code reload.watch}: whether a change to the configuration file reloads it
         * @return this
         */
        public Builder reloadWatch(boolean value) {
            reloadWatch = value;
            return this;
        }

        /**
         * @param value {@code admin.tls}, {@code admin.auth} and {@code admin.insecure}
         * @return this
         */
        public Builder admin(AdminConfig value) {
            admin = Objects.requireNonNull(value, "admin");
            return this;
        }

        /**
         * @param value sets {@code admin.tls}, {@code admin.auth} and {@code admin.insecure}, e.g.
         *     {@code admin(a -> a.auth(u -> u.tokenFile(file)))}
         * @return this
         */
        public Builder admin(UnaryOperator<AdminConfig.Builder> value) {
            admin = value.apply(AdminConfig.builder().tls(admin.tls()).auth(admin.auth()).insecure(admin.insecure()))
                    .build();
            return this;
        }

        /**
         * @return the operations settings
         * @throws IllegalArgumentException if the request id header is not a valid field name, or the admin
         *     endpoint is reachable from the network without authentication
         */
        public OperationsConfig build() {
            return new OperationsConfig(adminListen, requestIdEnabled, requestIdHeader, tracingGenerate,
                    reloadWatch, admin, tracing);
        }
    }
}
