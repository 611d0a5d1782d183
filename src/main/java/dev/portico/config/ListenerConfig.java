package dev.portico.config;

import java.util.Objects;

/**
 * One listener: where it binds, and what it speaks there.
 *
 * @param address the address to bind
 * @param tls the TLS settings, or {@code null} for plain HTTP
 * @param redirectHttps whether every request is answered with a 308 to the same URL over https instead of being
 *     routed (plain listeners only)
 */
public record ListenerConfig(ListenAddress address, ListenerTlsConfig tls, boolean redirectHttps) {
    /** A TLS listener cannot redirect to https: it already is. */
    public ListenerConfig {
        Objects.requireNonNull(address, "address");
        if (tls != null && redirectHttps) {
            throw new IllegalArgumentException("redirect_https is for plain listeners; this one has tls");
        }
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
        return address + (tls != null ? " (tls)" : redirectHttps ? " (redirect to https)" : "");
    }
}
