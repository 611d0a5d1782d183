package dev.portico.internal.tls;

import dev.portico.internal.pem.PemFiles;
import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ListenerTlsConfig.ClientAuth;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLException;

/**
 * One immutable set of server contexts for a listener, one per certificate, and the SNI mapping from host name to
 * context. Built off the event loops (at start-up and on reload) and swapped as a whole.
 */
final class ServerCertificates {
    /**
     * The application protocols this build can serve over ALPN. HTTP/2 is left out until its pipeline exists:
     * adding "h2" here is the one change that makes listeners offer it, as configured by {@code tls.alpn}.
     */
    static final Set<String> SERVED_ALPN = Set.of("h2", "http/1.1");

    private final Mapping<String, SslContext> mapping;
    private final SslContext defaultContext;
    private final List<String> names;

    private ServerCertificates(Mapping<String, SslContext> mapping, SslContext defaultContext, List<String> names) {
        this.mapping = mapping;
        this.defaultContext = defaultContext;
        this.names = names;
    }

    /**
     * Reads every file and builds the contexts.
     *
     * @param config the listener's TLS settings
     * @param keyPath the settings' key path, e.g. {@code listen[0].tls}, for messages
     * @return the contexts
     * @throws IllegalArgumentException naming the key path and the problem, if a file is missing or bad
     */
    static ServerCertificates build(ListenerTlsConfig config, String keyPath) {
        SslProvider provider = TlsProvider.get();
        X509Certificate[] clientCas = config.clientCa() == null ? null
                : at(keyPath + ".client_ca", () -> PemFiles.certificates(config.clientCa()))
                        .toArray(new X509Certificate[0]);
        List<String> advertised = new ArrayList<>();
        for (String p : config.alpn()) {
            if (SERVED_ALPN.contains(p)) {
                advertised.add(p);
            }
        }
        DomainWildcardMappingBuilder<SslContext> sni = null;
        SslContext first = null;
        Set<String> allNames = new LinkedHashSet<>();
        for (int i = 0; i < config.certificates().size(); i++) {
            CertificateConfig cc = config.certificates().get(i);
            String path = keyPath + ".certificates[" + i + "]";
            List<X509Certificate> chain = at(path + ".certificate", () -> PemFiles.certificates(cc.certificate()));
            PrivateKey key = at(path + ".key", () -> PemFiles.privateKey(cc.key()));
            at(path + ".key", () -> {
                PemFiles.checkPair(chain.get(0), key);
                return null;
            });
            SslContext context = at(path, () -> context(provider, key, chain, config, clientCas, advertised));
            if (first == null) {
                first = context;
                sni = new DomainWildcardMappingBuilder<>(context);
            }
            for (String name : names(chain.get(0))) {
                if (allNames.add(name)) { // a name in two certificates goes to the first
                    DomainWildcardMappingBuilder<SslContext> table = sni;
                    at(path + ".certificate", () -> table.add(name, context));
                }
            }
        }
        return new ServerCertificates(sni.build(), first, List.copyOf(allNames));
    }

    private static SslContext context(SslProvider provider, PrivateKey key, List<X509Certificate> chain,
                                      ListenerTlsConfig config, X509Certificate[] clientCas, List<String> alpn) {
        SslContextBuilder b = SslContextBuilder.forServer(key, chain).sslProvider(provider)
                .protocols(config.protocols());
        if (config.clientAuth() != ClientAuth.NONE) {
            b.trustManager(clientCas).clientAuth(config.clientAuth() == ClientAuth.REQUIRE
                    ? io.netty.handler.ssl.ClientAuth.REQUIRE : io.netty.handler.ssl.ClientAuth.OPTIONAL);
        }
        if (!alpn.isEmpty()) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
        }
        try {
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /** The DNS names of the certificate's subject alternative names, else its common name; lower case. */
    static List<String> names(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        out.add(String.valueOf(san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable SANs: fall back to the common name
        }
        if (out.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        out.add(String.valueOf(rdn.getValue()).toLowerCase(Locale.ROOT));
                    }
                }
            } catch (InvalidNameException e) {
                // no name at all: the certificate can still serve as the default
            }
        }
        return out;
    }

    private static <T> T at(String keyPath, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(keyPath + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param hostname the SNI name the client sent, or {@code null}; a trailing dot is ignored
     * @return the context of the certificate for that name, else the default (first) one
     */
    SslContext forName(String hostname) {
        if (hostname == null) {
            return defaultContext;
        }
        // "a.test." is the absolute form of "a.test" (RFC 6066 section 3 forbids the dot, clients still send it).
        return mapping.map(hostname.endsWith(".") ? hostname.substring(0, hostname.length() - 1) : hostname);
    }

    /** @return the host names the certificates serve, for the log */
    List<String> names() {
        return names;
    }
}
