package dev.portico.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How Portico talks TLS to an {@code https://} upstream. Kept apart from the route so that any way of naming
 * backends can carry it.
 *
 * @param ca the PEM file of the CAs the backend's certificate must chain to, or {@code null} for the JDK trust store
 * @param serverName the name sent as SNI and verified against the backend's certificate, or {@code null} for the
 *     upstream URL's host
 * @param certificate a PEM client certificate chain for mutual TLS, or {@code null}
 * @param key the client certificate's PEM private key, given exactly when {@code certificate} is
 * @param insecureSkipVerify whether the backend's certificate is accepted unchecked (logged as a warning)
 */
public record UpstreamTlsConfig(Path ca, String serverName, Path certificate, Path key, boolean insecureSkipVerify) {
    /** Verification against the JDK trust store, the URL's host as the name, no client certificate. */
    public static final UpstreamTlsConfig DEFAULTS = new UpstreamTlsConfig(null, null, null, null, false);

    /** Certificate and key go together; a server name must be a plain host name. */
    public UpstreamTlsConfig {
        if ((certificate == null) != (key == null)) {
            throw new IllegalArgumentException(certificate == null ? "key needs a certificate"
                    : "certificate needs a key");
        }
        if (serverName != null && !serverName.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
            throw new IllegalArgumentException("server_name is not a host name: \"" + serverName + "\"");
        }
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds {@link UpstreamTlsConfig}; each method sets the {@code tls} (or {@code upstream_tls}) key of its
     * name. Files are used as given (the YAML loader resolves them against the configuration file's directory).
     * Not thread-safe.
     */
    public static final class Builder {
        private Path ca;
        private String serverName;
        private Path certificate;
        private Path key;
        private boolean insecureSkipVerify;

        private Builder() {
        }

        /**
         * @param file {@code ca}: the PEM file of the CAs the backend's certificate must chain to
         * @return this
         */
        public Builder ca(Path file) {
            ca = file;
            return this;
        }

        /**
         * @param name {@code server_name}: the name sent as SNI and verified against the backend's certificate
         * @return this
         */
        public Builder serverName(String name) {
            serverName = name;
            return this;
        }

        /**
         * @param file {@code certificate}: a PEM client certificate chain for mutual TLS; needs {@link #key}
         * @return this
         */
        public Builder certificate(Path file) {
            certificate = file;
            return this;
        }

        /**
         * @param file {@code key}: the client certificate's PEM private key
         * @return this
         */
        public Builder key(Path file) {
            key = file;
            return this;
        }

        /**
         * @param value {@code insecure_skip_verify}: whether the backend's certificate is accepted unchecked
         * @return this
         */
        public Builder insecureSkipVerify(boolean value) {
            insecureSkipVerify = value;
            return this;
        }

        /**
         * @return the TLS settings
         * @throws IllegalArgumentException if only one of certificate and key is given, or the server name is not a
         *     host name
         */
        public UpstreamTlsConfig build() {
            return new UpstreamTlsConfig(ca, serverName, certificate, key, insecureSkipVerify);
        }
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamTlsConfig other && Objects.equals(ca, other.ca)
                && Objects.equals(serverName, other.serverName) && Objects.equals(certificate, other.certificate)
                && Objects.equals(key, other.key) && insecureSkipVerify == other.insecureSkipVerify;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(ca, serverName, certificate, key, insecureSkipVerify);
    }
}
