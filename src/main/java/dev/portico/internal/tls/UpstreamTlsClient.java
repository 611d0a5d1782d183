package dev.portico.internal.tls;

import dev.portico.internal.pem.PemFiles;
import dev.portico.config.UpstreamTlsConfig;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * How connections to one {@code https://} backend are secured: the client context (trust, optional client
 * certificate) and the name sent as SNI and verified. Pooled connections are kept apart per instance, so two
 * routes share connections only when they share the instance.
 */
public final class UpstreamTlsClient {
    private final UpstreamTlsConfig config;
    private final String keyPath;
    private final String serverName;
    private final int port;
    private final long handshakeTimeoutMillis;
    private final boolean verified;
    /** The application protocols offered in ALPN; empty for none (HTTP/1.1 backends). */
    private final List<String> alpn;
    /** The files the context was built from: {@code ca}, {@code certificate}, {@code key}, those configured. */
    private final List<Path> files = new ArrayList<>();
    /** What the files held when last read; guarded by this object. */
    private byte[][] seen;
    /** New connections use the context current when they open; open ones keep theirs. */
    private volatile SslContext context;

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
        this(config, urlHost, port, handshakeTimeoutMillis, keyPath, List.of());
    }

    /**
     * As the other constructor, offering {@code alpn} in the handshake (for an upstream that speaks HTTP/2).
     *
     * @param config the route's {@code upstream_tls}
     * @param urlHost the upstream URL's host, the default server name
     * @param port the backend port
     * @param handshakeTimeoutMillis the longest a handshake may take (the connect timeout)
     * @param keyPath the settings' key path, for messages
     * @param alpn the application protocols offered, most preferred first; empty for no ALPN
     * @throws IllegalArgumentException naming the key path, if a file is missing or bad
     */
    public UpstreamTlsClient(UpstreamTlsConfig config, String urlHost, int port, long handshakeTimeoutMillis,
                             String keyPath, List<String> alpn) {
        this.alpn = List.copyOf(alpn);
        this.config = config;
        this.keyPath = keyPath;
        this.serverName = config.serverName() != null ? config.serverName() : urlHost;
        this.port = port;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.verified = !config.insecureSkipVerify();
        for (Path f : new Path[] {config.insecureSkipVerify() ? null : config.ca(), config.certificate(),
            config.key()}) {
            if (f != null) {
                files.add(f);
            }
        }
        this.seen = ServerTls.contents(files);
        this.context = build(config, keyPath, this.alpn);
    }

    private static SslContext build(UpstreamTlsConfig config, String keyPath, List<String> alpn) {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(TlsProvider.get())
                .protocols("TLSv1.3", "TLSv1.2");
        if (!alpn.isEmpty()) {
            b.applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                    io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                    io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
        }
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
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException(keyPath + ": cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * Re-reads the CA, certificate and key files if any changed since they were last read, and uses them for new
     * connections if they are good. Runs off the event loops: it reads files.
     *
     * @return whether a new context was swapped in
     * @throws IllegalArgumentException naming the key path, if the files changed and are bad now; the current
     *     context stays, and the same contents are not tried (nor reported) again
     */
    public synchronized boolean reloadIfChanged() {
        byte[][] now = ServerTls.contents(files);
        if (Arrays.deepEquals(now, seen)) {
            return false;
        }
        seen = now;
        context = build(config, keyPath, alpn);
        return true;
    }

    /**
     * Why a handshake with a backend failed, in words an operator can act on: OpenSSL reports every failure of
     * the certificate check as "General OpenSslEngine problem" and keeps the reason in the causes.
     *
     * @param failure the handshake's failure
     * @return e.g. "the backend's certificate has expired: ..."
     */
    public static String describe(Throwable failure) {
        Throwable deepest = failure;
        for (Throwable c = failure; c != null; c = c.getCause()) {
            deepest = c;
            String m = String.valueOf(c.getMessage());
            if (c instanceof java.security.cert.CertificateExpiredException) {
                return "the backend's certificate has expired: " + m;
            }
            if (c instanceof java.security.cert.CertificateNotYetValidException) {
                return "the backend's certificate is not valid yet: " + m;
            }
            if (c instanceof java.security.cert.CertPathValidatorException v
                    && v.getReason() == java.security.cert.CertPathValidatorException.BasicReason.EXPIRED) {
                return "the backend's certificate (or its CA's) has expired: " + m;
            }
            if (c instanceof java.security.cert.CertificateException && (m.contains("subject alternative")
                    || m.contains("No name matching"))) {
                return "the backend's certificate is for another name: " + m;
            }
            if (c instanceof java.security.cert.CertPathBuilderException
                    || c instanceof java.security.cert.CertPathValidatorException
                    || m.contains("unable to find valid certification path")) {
                return "the backend's certificate is not signed by a trusted CA (ca): " + m;
            }
        }
        return String.valueOf(deepest.getMessage() != null ? deepest.getMessage() : deepest);
    }

    /** @return where the settings are in the config, for messages */
    public String keyPath() {
        return keyPath;
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
