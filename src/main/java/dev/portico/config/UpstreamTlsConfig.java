package dev.portico.config;

import java.nio.file.Path;

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
}
