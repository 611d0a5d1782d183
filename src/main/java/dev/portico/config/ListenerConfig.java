package dev.portico.config;

import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * One listener: where it binds, and what it speaks there.
 *
 * @param address the address to bind
 * @param tls the TLS settings, or {@code null} for plain HTTP
 * @param redirectHttps whether every request is answered with a 308 to the same URL over https instead of being
 *     routed (plain listeners only)
 * @param proxyProtocol whether every connection must open with a PROXY protocol header (v1 or v2), accepted from
 *     {@code trusted_proxies} only
 * @param http3 whether the listener also serves HTTP/3 over QUIC on the same port number over UDP (TLS listeners
 *     only); its HTTP/1.1 and HTTP/2 responses then advertise it with {@code Alt-Svc}
 */
public record ListenerConfig(ListenAddress address, ListenerTlsConfig tls, boolean redirectHttps,
                             boolean proxyProtocol, boolean http3) {
    /**
     * A TLS listener cannot redirect to https (it already is), nor speak h2c (it offers h2 through ALPN); HTTP/3
     * needs TLS (QUIC has no cleartext form).
     */
    public ListenerConfig {
        Objects.requireNonNull(address, "address");
        if (tls != null && address.h2c()) {
            throw new IllegalArgumentException("h2c is for plain listeners; a TLS listener offers h2 through tls.alpn");
        }
        if (tls != null && redirectHttps) {
            throw new IllegalArgumentException("redirect_https is for plain listeners; this one has tls");
        }
        if (http3 && tls == null) {
            throw new IllegalArgumentException("http3 needs tls: QUIC is always encrypted");
        }
    }

    /**
     * A listener without HTTP/3.
     *
     * @param address the address to bind
     * @param tls the TLS settings, or {@code null} for plain HTTP
     * @param redirectHttps whether every request is redirected to https
     * @param proxyProtocol whether connections open with a PROXY protocol header
     */
    public ListenerConfig(ListenAddress address, ListenerTlsConfig tls, boolean redirectHttps,
                          boolean proxyProtocol) {
        this(address, tls, redirectHttps, proxyProtocol, false);
    }

    /**
     * A listener without the PROXY protocol.
     *
     * @param address the address to bind
     * @param tls the TLS settings, or {@code null} for plain HTTP
     * @param redirectHttps whether every request is redirected to https
     */
    public ListenerConfig(ListenAddress address, ListenerTlsConfig tls, boolean redirectHttps) {
        this(address, tls, redirectHttps, false);
    }

    /**
     * @param value whether connections open with a PROXY protocol header
     * @return a copy of this listener with that setting
     */
    public ListenerConfig withProxyProtocol(boolean value) {
        return new ListenerConfig(address, tls, redirectHttps, value, http3);
    }

    /**
     * @param address the address
     * @return a plain HTTP listener
     */
    public static ListenerConfig plain(ListenAddress address) {
        return new ListenerConfig(address, null, false);
    }

    @Override
    public String toString() {
        return address + (tls != null ? " (tls)" : redirectHttps ? " (redirect to https)" : "")
                + (proxyProtocol ? " (proxy protocol)" : "") + (http3 ? " (http3)" : "");
    }

    /** @return a builder for a plain HTTP/1.1 listener; an address must be given */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link ListenerConfig}; each method sets the listener key of its name. Not thread-safe. */
    public static final class Builder {
        private ListenAddress address;
        private ListenerTlsConfig tls;
        private boolean redirectHttps;
        private boolean h2c;
        private boolean proxyProtocol;
        private boolean http3;

        private Builder() {
        }

        /**
         * @param hostPort {@code address}: {@code host:port} to bind, IPv6 hosts in brackets; port 0 for an
         *     ephemeral one
         * @return this
         * @throws IllegalArgumentException if it is not {@code host:port}
         */
        public Builder address(String hostPort) {
            address = ListenAddress.parse(hostPort);
            return this;
        }

        /**
         * @param host the host to bind ({@code address})
         * @param port the port, 0 for an ephemeral one
         * @return this
         */
        public Builder address(String host, int port) {
            address = new ListenAddress(host, port);
            return this;
        }

        /**
         * @param value {@code tls}: the TLS settings, {@code null} for plain HTTP
         * @return this
         */
        public Builder tls(ListenerTlsConfig value) {
            tls = value;
            return this;
        }

        /**
         * Sets {@code tls} through a builder, e.g. {@code tls(t -> t.certificate(cert, key))}.
         *
         * @param value sets the TLS keys, starting from the defaults
         * @return this
         */
        public Builder tls(UnaryOperator<ListenerTlsConfig.Builder> value) {
            tls = value.apply(ListenerTlsConfig.builder()).build();
            return this;
        }

        /**
         * @param value {@code redirect_https}: whether every request is answered with a 308 to https (plain
         *     listeners only)
         * @return this
         */
        public Builder redirectHttps(boolean value) {
            redirectHttps = value;
            return this;
        }

        /**
         * @param value {@code h2c}: whether the listener also speaks cleartext HTTP/2 (plain listeners only)
         * @return this
         */
        public Builder h2c(boolean value) {
            h2c = value;
            return this;
        }

        /**
         * @param value {@code proxy_protocol}: whether every connection opens with a PROXY protocol header (needs
         *     {@code trusted_proxies})
         * @return this
         */
        public Builder proxyProtocol(boolean value) {
            proxyProtocol = value;
            return this;
        }

        /**
         * @param value {@code http3}: whether the listener also serves HTTP/3 over QUIC on the same port over UDP
         *     (TLS listeners only)
         * @return this
         */
        public Builder http3(boolean value) {
            http3 = value;
            return this;
        }

        /**
         * @return the listener
         * @throws IllegalArgumentException if no address was given, TLS is combined with h2c or redirect_https, or
         *     http3 is asked for without TLS
         */
        public ListenerConfig build() {
            if (address == null) {
                throw new IllegalArgumentException("address is required (host:port)");
            }
            return new ListenerConfig(address.withH2c(h2c), tls, redirectHttps, proxyProtocol, http3);
        }
    }
}
