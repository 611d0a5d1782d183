package dev.portico.tls;

import dev.portico.config.UpstreamTlsConfig;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * How connections to one {@code https://} backend are secured: the client context (trust, optional client
 * certificate) and the name sent as SNI and verified. Pooled connections are kept apart per instance, so two
 * routes share connections only when they share the instance.
 */
public final class UpstreamTlsClient {
    private final SslContext context;
    private final String serverName;
    private final int port;
    private final long handshakeTimeoutMillis;
    private final boolean verified;

    /**
     * @param config the route's {@code upstream_tls}
     * @param urlHost the upstream URL's host, the default server name
     * @param port the backend port
     * @param handshakeTimeoutMillis the longest a handshake may take (the connect timeout)
     * @param keyPath the settings' key path, e.g. {@code routes[0].upstream_tls}, for messages
     * @throws IllegalArgumentException naming the key path, if a file is missing or bad
     */
    public UpstreamTlsClient(UpstreamTlsConfig config, String urlHost, int port, long handshakeTimeoutMillis,
                             String keyPath) {
        this.serverName = config.serverName() != null ? config.serverName() : urlHost;
        this.port = port;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.verified = !config.insecureSkipVerify();
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(TlsProvider.get())
                .protocols("TLSv1.3", "TLSv1.2");
        if (config.insecureSkipVerify()) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        } else {
            // RFC 6125 name check of the backend's certificate against serverName, both providers.
            b.endpointIdentificationAlgorithm("HTTPS");
            if (config.ca() != null) {
                List<X509Certificate> cas = at(keyPath + ".ca", () -> PemFiles.certificates(config.ca()));
                b.trustManager(cas);
            }
        }
        if (config.certificate() != null) {
            List<X509Certificate> chain = at(keyPath + ".certificate",
                    () -> PemFiles.certificates(config.certificate()));
            PrivateKey key = at(keyPath + ".key", () -> PemFiles.privateKey(config.key()));
            at(keyPath + ".key", () -> {
                PemFiles.checkPair(chain.get(0), key);
                return null;
            });
            b.keyManager(key, chain);
        }
        try {
            this.context = b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException(keyPath + ": cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * Puts a TLS stage first in a new backend connection's pipeline; called from its initializer.
     *
     * @param ch the backend channel, not yet connected
     * @return the handshake's future: the connection may be lent once it succeeds
     */
    public Future<Channel> addTo(Channel ch) {
        SslHandler h = context.newHandler(ch.alloc(), serverName, port);
        h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        ch.pipeline().addFirst("tls", h);
        return h.handshakeFuture();
    }

    /** @return the name sent as SNI and checked against the backend's certificate */
    public String serverName() {
        return serverName;
    }

    /** @return whether the backend's certificate is verified */
    public boolean verified() {
        return verified;
    }

    private static <T> T at(String keyPath, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(keyPath + ": " + e.getMessage(), e);
        }
    }
}
