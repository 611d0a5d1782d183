package dev.portico.config;

import java.util.Objects;

/**
 * One listener: where it binds, and what it speaks there.
 *
 * @param address the address to bind
 * @param tls the TLS settings, or {@code null} for plain HTTP
 * @param redirectHttps whether every request is answered with a 308 to the same URL over https instead of being
 *     routed (plain listeners only)
 * @param proxyProtocol whether every connection must open with a PROXY protocol header (v1 or v2), accepted from
 *     {@code trusted_proxies} only
 */
public record ListenerConfig(ListenAddress address, ListenerTlsConfig tls, boolean redirectHttps,
                             boolean proxyProtocol) {
    /** A TLS listener cannot redirect to https: it already is. */
    public ListenerConfig {
        Objects.requireNonNull(address, "address");
        if (tls != null && redirectHttps) {
            throw new IllegalArgumentException("redirect_https is for plain listeners; this one has tls");
        }
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
        return new ListenerConfig(address, tls, redirectHttps, value);
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
                + (proxyProtocol ? " (proxy protocol)" : "");
    }
}
