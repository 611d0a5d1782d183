package dev.portico.config;

import java.util.Locale;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The admin endpoint's protection ({@code admin} keys beside {@code listen}): TLS, authentication, and the explicit
 * {@code insecure} that an endpoint open to the network without authentication needs.
 *
 * @param tls TLS on the admin listener ({@code admin.tls}, the keys of a listener's {@code tls}), or {@code null}
 * @param auth who may use it ({@code admin.auth}), or {@code null} for everybody who can connect
 * @param insecure {@code admin.insecure}: allows a non-loopback {@code admin.listen} without {@code auth}
 */
public record AdminConfig(ListenerTlsConfig tls, AdminAuthConfig auth, boolean insecure) {
    /** No TLS, no authentication: fit for a loopback address only. */
    public static final AdminConfig NONE = new AdminConfig(null, null, false);

    /**
     * Checks that an admin endpoint reachable from the network is protected.
     *
     * @param listen the admin address, or {@code null} for none
     * @throws IllegalArgumentException if it is not a loopback address and neither {@code auth} nor
     *     {@code insecure} is set
     */
    public void checkExposure(ListenAddress listen) {
        if (listen != null && auth == null && !insecure && !loopback(listen.host())) {
            throw new IllegalArgumentException("auth is required when admin.listen (" + listen + ") is not a "
                    + "loopback address: anyone who reaches it could read the configuration and reload it; set "
                    + "admin.insecure: true to allow that explicitly");
        }
    }

    /**
     * @param host a host name or IP literal
     * @return whether it names the loopback interface ({@code localhost}, {@code 127.0.0.0/8}, {@code ::1})
     */
    public static boolean loopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /** @return a builder starting from {@link #NONE} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link AdminConfig}; each method sets the {@code admin} key of its name. Not thread-safe. */
    public static final class Builder {
        private ListenerTlsConfig tls;
        private AdminAuthConfig auth;
        private boolean insecure;

        private Builder() {
        }

        /**
         * @param value {@code tls}: TLS on the admin listener, or {@code null} for none
         * @return this
         */
        public Builder tls(ListenerTlsConfig value) {
            tls = value;
            return this;
        }

        /**
         * @param value sets the {@code tls} keys, e.g. {@code tls(t -> t.certificate(cert, key))}
         * @return this
         */
        public Builder tls(UnaryOperator<ListenerTlsConfig.Builder> value) {
            tls = value.apply(ListenerTlsConfig.builder()).build();
            return this;
        }

        /**
         * @param value {@code auth}: who may use the endpoint, or {@code null} for everybody
         * @return this
         */
        public Builder auth(AdminAuthConfig value) {
            auth = value;
            return this;
        }

        /**
         * @param value sets the {@code auth} keys, e.g. {@code auth(a -> a.tokenFile(path))}
         * @return this
         */
        public Builder auth(UnaryOperator<AdminAuthConfig.Builder> value) {
            auth = Objects.requireNonNull(value.apply(AdminAuthConfig.builder()), "auth").build();
            return this;
        }

        /**
         * @param value {@code insecure}: allow a non-loopback address without authentication
         * @return this
         */
        public Builder insecure(boolean value) {
            insecure = value;
            return this;
        }

        /** @return the settings */
        public AdminConfig build() {
            return new AdminConfig(tls, auth, insecure);
        }
    }
}
