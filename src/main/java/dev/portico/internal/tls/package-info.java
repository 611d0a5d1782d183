/**
 * TLS: each TLS listener's certificates ({@link dev.portico.internal.tls.ServerTls}, chosen by SNI and swapped when their
 * files change), the clients for {@code https://} upstreams ({@link dev.portico.internal.tls.UpstreamTlsClient}), PEM
 * reading, and the choice between OpenSSL and the JDK ({@link dev.portico.internal.tls.TlsProvider}). Certificates are read
 * off the event loops; a handshake only reads a volatile reference to the current ones.
 */
package dev.portico.internal.tls;
