package dev.portico.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Certificates made for a test: a CA, and server or client certificates it signs, with PEM files and JDK SSL
 * contexts built from them. RSA keys are 2048 bits (generated once per kind and reused: generation is slow on two
 * shared cores); EC keys are P-256.
 */
public final class TestCertificates {
    /** How a private key is written. */
    public enum KeyFormat { PKCS8, TRADITIONAL }

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A certificate and its key. */
    public record Issued(X509Certificate certificate, PrivateKey key, List<X509Certificate> chain) {
        /** Writes the chain (leaf first) to {@code dir/name.pem} and the key to {@code dir/name.key}. */
        public Pem write(Path dir, String name, KeyFormat format) throws IOException {
            Path cert = dir.resolve(name + ".pem");
            Path key = dir.resolve(name + ".key");
            writeAtomically(cert, pem(chain.toArray()));
            writeAtomically(key, format == KeyFormat.PKCS8 ? pemPkcs8(this.key) : traditional(this.key));
            return new Pem(cert, key);
        }

        public Pem write(Path dir, String name) throws IOException {
            return write(dir, name, KeyFormat.PKCS8);
        }

        /**
         * @return a JDK context trusting {@code trusted} that presents this certificate as a client whenever asked,
         *     even when the server names other CAs (the JDK alone would then send none)
         */
        public SSLContext clientContext(Issued trusted) throws GeneralSecurityException, IOException {
            X509Certificate[] certs = chain.toArray(new X509Certificate[0]);
            javax.net.ssl.X509ExtendedKeyManager always = new javax.net.ssl.X509ExtendedKeyManager() {
                @Override
                public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, Socket s) {
                    return "me";
                }

                @Override
                public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers,
                                                      javax.net.ssl.SSLEngine engine) {
                    return "me";
                }

                @Override
                public X509Certificate[] getCertificateChain(String alias) {
                    return certs;
                }

                @Override
                public PrivateKey getPrivateKey(String alias) {
                    return key;
                }

                @Override
                public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
                    return new String[] {"me"};
                }

                @Override
                public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
                    return new String[0];
                }

                @Override
                public String chooseServerAlias(String keyType, java.security.Principal[] issuers, Socket s) {
                    return null;
                }
            };
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new javax.net.ssl.KeyManager[] {always}, trustManagers(trusted), RANDOM);
            return ctx;
        }
    }

    /** The files of an issued certificate. */
    public record Pem(Path certificate, Path key) {
    }

    private TestCertificates() {
    }

    /** @return a self-signed CA */
    public static Issued ca(String name) throws Exception {
        KeyPair kp = ecKeys();
        X500Name subject = new X500Name("CN=" + name);
        X509v3CertificateBuilder b = builder(subject, subject, kp);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate cert = sign(b, kp.getPrivate());
        return new Issued(cert, kp.getPrivate(), List.of(cert));
    }

    /** @return a server certificate for {@code dnsNames} (the first is also the CN), signed by {@code ca}, EC key */
    public static Issued server(Issued ca, String... dnsNames) throws Exception {
        return issue(ca, false, ecKeys(), dnsNames);
    }

    /** @return a server certificate with an RSA key */
    public static Issued serverRsa(Issued ca, String... dnsNames) throws Exception {
        return issue(ca, false, rsaKeys(), dnsNames);
    }

    /** @return a client certificate named {@code name}, signed by {@code ca} */
    public static Issued client(Issued ca, String name) throws Exception {
        return issue(ca, true, ecKeys(), name);
    }

    /** @return a JDK client context trusting {@code ca}, with no client certificate */
    public static SSLContext trusting(Issued ca) throws GeneralSecurityException, IOException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, trustManagers(ca), RANDOM);
        return ctx;
    }

    private static javax.net.ssl.TrustManager[] trustManagers(Issued ca) throws GeneralSecurityException, IOException {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        return tmf.getTrustManagers();
    }

    private static Issued issue(Issued ca, boolean client, KeyPair kp, String... dnsNames) throws Exception {
        X509v3CertificateBuilder b = builder(new X500Name(ca.certificate().getSubjectX500Principal().getName()),
                new X500Name("CN=" + dnsNames[0]), kp);
        List<GeneralName> names = new ArrayList<>();
        for (String n : dnsNames) {
            names.add(n.matches("[0-9.]+") ? new GeneralName(GeneralName.iPAddress, n)
                    : new GeneralName(GeneralName.dNSName, n));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(client ? KeyPurposeId.id_kp_clientAuth : KeyPurposeId.id_kp_serverAuth));
        X509Certificate cert = sign(b, ca.key());
        return new Issued(cert, kp.getPrivate(), List.of(cert, ca.certificate()));
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)), subject,
                kp.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey)
            throws OperatorCreationException, GeneralSecurityException {
        String alg = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        ContentSigner signer = new JcaContentSignerBuilder(alg).build(issuerKey);
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static KeyPair rsaKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048, RANDOM);
        return g.generateKeyPair();
    }

    /** PEM as OpenSSL's traditional formats write it: PKCS#1 for RSA keys, SEC1 for EC keys. */
    private static String pem(Object... objects) throws IOException {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            for (Object o : objects) {
                w.writeObject(new JcaMiscPEMGenerator(o));
            }
        }
        return sw.toString();
    }

    /** PKCS#1 for RSA; SEC1 with the curve named inside for EC, as {@code openssl ecparam -genkey} writes it. */
    private static String traditional(PrivateKey key) throws IOException {
        if (!key.getAlgorithm().equals("EC")) {
            return pem(key);
        }
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        org.bouncycastle.asn1.sec.ECPrivateKey inner =
                org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        org.bouncycastle.asn1.sec.ECPrivateKey full = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(),
                info.getPrivateKeyAlgorithm().getParameters());
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(new PemObject("EC PRIVATE KEY", full.getEncoded()));
        }
        return sw.toString();
    }

    private static String pemPkcs8(PrivateKey key) throws IOException {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(new JcaPKCS8Generator(key, null));
        }
        return sw.toString();
    }

    /** Writes through a temporary file and a rename, as a certificate tool would, so a reader never sees half. */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
            w.write(text);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
