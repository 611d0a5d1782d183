package dev.portico.internal.tls;

import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ListenerTlsConfig.ClientAuth;
import dev.portico.internal.pem.PemFiles;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The QUIC side of a TLS listener's certificates, for HTTP/3: one QUIC context per certificate (ALPN {@code h3}),
 * picked by SNI like {@link ServerTls}'s, and rebuilt when {@link ServerTls} swaps in new certificates. QUIC is
 * TLS 1.3 only, so {@code tls.protocols} does not apply; {@code client_auth} and {@code client_ca} do.
 */
public final class QuicServerTls {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private volatile Contexts current;
    private final QuicSslContext sni = QuicSslContextBuilder.buildForServerWithSni(name -> current.forName(name));

    /** One immutable set of contexts, swapped as a whole. */
    private record Contexts(Mapping<String, QuicSslContext> byName, QuicSslContext first) {
        QuicSslContext forName(String name) {
            if (name == null) {
                return first;
            }
            return byName.map(name.endsWith(".") ? name.substring(0, name.length() - 1) : name);
        }
    }

    /**
     * Builds the contexts from the listener's files and follows its reloads.
     *
     * @param tls the listener's TLS
     * @throws IllegalArgumentException if a file cannot be used (it was read a moment ago, so hardly ever)
     */
    public QuicServerTls(ServerTls tls) {
        current = build(tls.config());
        tls.onReload(() -> {
            try {
                current = build(tls.config());
            } catch (RuntimeException e) {
                LOG.warn("{}: new certificates cannot be used for HTTP/3; QUIC keeps the current ones: {}",
                        tls.keyPath(), e.getMessage());
            }
        });
    }

    /** @return the context the QUIC codec uses; each handshake picks the certificate current then */
    public QuicSslContext context() {
        return sni;
    }

    private static Contexts build(ListenerTlsConfig config) {
        X509Certificate[] clientCas = config.clientCa() == null ? null
                : PemFiles.certificates(config.clientCa()).toArray(new X509Certificate[0]);
        DomainWildcardMappingBuilder<QuicSslContext> names = null;
        QuicSslContext first = null;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (CertificateConfig c : config.certificates()) {
            List<X509Certificate> chain = PemFiles.certificates(c.certificate());
            PrivateKey key = PemFiles.privateKey(c.key());
            QuicSslContextBuilder b = QuicSslContextBuilder.forServer(key, null, chain.toArray(new X509Certificate[0]))
                    .applicationProtocols(Http3.supportedApplicationProtocols());
            if (config.clientAuth() != ClientAuth.NONE) {
                b.trustManager(clientCas).clientAuth(config.clientAuth() == ClientAuth.REQUIRE
                        ? io.netty.handler.ssl.ClientAuth.REQUIRE : io.netty.handler.ssl.ClientAuth.OPTIONAL);
            }
            QuicSslContext context = b.build();
            if (first == null) {
                first = context;
                names = new DomainWildcardMappingBuilder<>(context);
            }
            for (String name : ServerCertificates.names(chain.get(0))) {
                if (seen.add(name)) { // a name in two certificates goes to the first, as on TCP
                    names.add(name, context);
                }
            }
        }
        return new Contexts(names.build(), first);
    }
}
