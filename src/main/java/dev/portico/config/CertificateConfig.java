package dev.portico.config;

import dev.portico.internal.pem.PemFiles;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A certificate chain and its private key, both PEM files. The chain starts with the server's own certificate; the
 * key is PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1
 * ({@code BEGIN EC PRIVATE KEY}), unencrypted.
 *
 * <p>Made by the YAML loader and by Java code alike, it reads both files and checks that the key belongs to the
 * chain's first certificate, so a mismatched pair is a configuration error on either road.
 *
 * @param certificate the PEM certificate chain
 * @param key the PEM private key
 */
public record CertificateConfig(Path certificate, Path key) {
    /** Both files are required, readable, and a matching pair. */
    public CertificateConfig {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
        List<X509Certificate> chain;
        try {
            chain = PemFiles.certificates(certificate);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("certificate " + e.getMessage());
        }
        PrivateKey privateKey;
        try {
            privateKey = PemFiles.privateKey(key);
            PemFiles.checkPair(chain.get(0), privateKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key " + e.getMessage());
        }
    }
}
