package dev.portico.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * TLS on a listener.
 *
 * @param certificates the certificates, chosen by SNI among the names each certificate holds; the first is the
 *     default for clients that send no name or an unknown one
 * @param protocols the TLS versions offered, a subset of {@link #ALLOWED_PROTOCOLS}
 * @param alpn the application protocols, a subset of {@link #ALLOWED_ALPN}, in order of preference
 * @param clientAuth whether a client certificate is asked for
 * @param clientCa the PEM file of the CAs that client certificates must chain to; required unless
 *     {@code clientAuth} is {@link ClientAuth#NONE}, else {@code null}
 */
public record ListenerTlsConfig(List<CertificateConfig> certificates, List<String> protocols, List<String> alpn,
                                ClientAuth clientAuth, Path clientCa) {
    /** The TLS versions Portico accepts at all: nothing older than TLS 1.2. */
    public static final List<String> ALLOWED_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** Default {@code protocols}. */
    public static final List<String> DEFAULT_PROTOCOLS = ALLOWED_PROTOCOLS;
    /** The application protocols {@code alpn} may list. */
    public static final List<String> ALLOWED_ALPN = List.of("h2", "http/1.1");
    /** Default {@code alpn}. */
    public static final List<String> DEFAULT_ALPN = ALLOWED_ALPN;

    /** Whether and how a listener asks for client certificates (mutual TLS). */
    public enum ClientAuth {
        /** No client certificate is asked for. */
        NONE,
        /** A client certificate is asked for; a client without one is served, one with a bad one refused. */
        OPTIONAL,
        /** A client without a valid certificate is refused during the handshake. */
        REQUIRE;

        /**
         * @param text {@code none}, {@code optional} or {@code require}
         * @return the value
         */
        public static ClientAuth parse(String text) {
            for (ClientAuth c : values()) {
                if (c.name().toLowerCase(Locale.ROOT).equals(text)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("expected none, optional or require, got \"" + text + "\"");
        }
    }

    /** Validates the lists and the client-auth combination. */
    public ListenerTlsConfig {
        certificates = List.copyOf(certificates);
        protocols = List.copyOf(protocols);
        alpn = List.copyOf(alpn);
        Objects.requireNonNull(clientAuth, "clientAuth");
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("certificates needs at least one certificate");
        }
        checkSubset("protocols", protocols, ALLOWED_PROTOCOLS, " (nothing older than TLSv1.2 is allowed)");
        checkSubset("alpn", alpn, ALLOWED_ALPN, "");
        if (clientAuth != ClientAuth.NONE && clientCa == null) {
            throw new IllegalArgumentException("client_ca is required with client_auth "
                    + clientAuth.name().toLowerCase(Locale.ROOT));
        }
        if (clientAuth == ClientAuth.NONE && clientCa != null) {
            throw new IllegalArgumentException("client_ca is only used with client_auth optional or require");
        }
    }

    /**
     * One certificate with the default protocols and ALPN and no client authentication.
     *
     * @param certificate the PEM certificate chain
     * @param key the PEM private key
     * @return the settings
     */
    public static ListenerTlsConfig of(Path certificate, Path key) {
        return new ListenerTlsConfig(List.of(new CertificateConfig(certificate, key)), DEFAULT_PROTOCOLS,
                DEFAULT_ALPN, ClientAuth.NONE, null);
    }

    private static void checkSubset(String key, List<String> values, List<String> allowed, String why) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException(key + " may not be empty");
        }
        Set<String> seen = new HashSet<>();
        for (String v : values) {
            if (!allowed.contains(v)) {
                throw new IllegalArgumentException(key + " may only hold " + String.join(", ", allowed) + why
                        + ", got \"" + v + "\"");
            }
            if (!seen.add(v)) {
                throw new IllegalArgumentException(key + " lists \"" + v + "\" twice");
            }
        }
    }

    /** @return a builder with the default protocols and ALPN, no client authentication, and no certificate yet */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds {@link ListenerTlsConfig}; each method sets the {@code tls} key of its name. Files are used as given
     * (the YAML loader resolves them against the configuration file's directory). Not thread-safe.
     */
    public static final class Builder {
        private final List<CertificateConfig> certificates = new ArrayList<>();
        private List<String> protocols = DEFAULT_PROTOCOLS;
        private List<String> alpn = DEFAULT_ALPN;
        private ClientAuth clientAuth = ClientAuth.NONE;
        private Path clientCa;

        private Builder() {
        }

        /**
         * Adds a certificate ({@code certificate} and {@code key}, or one entry of {@code certificates}); the first
         * is the default for clients that send no known SNI name.
         *
         * @param certificate the PEM certificate chain
         * @param key its PEM private key
         * @return this
         * @throws IllegalArgumentException if a file cannot be read or the key does not match the certificate
         */
        public Builder certificate(Path certificate, Path key) {
            certificates.add(new CertificateConfig(certificate, key));
            return this;
        }

        /**
         * @param value {@code certificates}: appended in order
         * @return this
         */
        public Builder certificates(CertificateConfig... value) {
            for (CertificateConfig c : value) {
                certificates.add(Objects.requireNonNull(c, "certificate"));
            }
            return this;
        }

        /**
         * @param value {@code protocols}: the TLS versions offered, among {@link #ALLOWED_PROTOCOLS}
         * @return this
         */
        public Builder protocols(String... value) {
            protocols = List.of(value);
            return this;
        }

        /**
         * @param value {@code alpn}: the application protocols, among {@link #ALLOWED_ALPN}, in order of preference
         * @return this
         */
        public Builder alpn(String... value) {
            alpn = List.of(value);
            return this;
        }

        /**
         * @param value {@code client_auth}: whether a client certificate is asked for; not {@code NONE} needs
         *     {@link #clientCa}
         * @return this
         */
        public Builder clientAuth(ClientAuth value) {
            clientAuth = value;
            return this;
        }

        /**
         * @param file {@code client_ca}: the PEM file of the CAs client certificates must chain to
         * @return this
         */
        public Builder clientCa(Path file) {
            clientCa = file;
            return this;
        }

        /**
         * @return the TLS settings
         * @throws IllegalArgumentException if there is no certificate, a list holds an unknown or repeated value,
         *     or client authentication and CA do not go together
         */
        public ListenerTlsConfig build() {
            return new ListenerTlsConfig(certificates, protocols, alpn, clientAuth, clientCa);
        }
    }
}
