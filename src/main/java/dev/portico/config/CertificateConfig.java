package dev.portico.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A certificate chain and its private key, both PEM files. The chain starts with the server's own certificate; the
 * key is PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1
 * ({@code BEGIN EC PRIVATE KEY}), unencrypted.
 *
 * @param certificate the PEM certificate chain
 * @param key the PEM private key
 */
public record CertificateConfig(Path certificate, Path key) {
    /** Both files are required. */
    public CertificateConfig {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
    }
}
