package dev.portico.internal.pem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.KeyFormat;
import dev.portico.testing.TestCertificates.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM chains and keys in every format the configuration accepts. */
class PemFilesTest {
    private static Issued ec;
    private static Issued rsa;

    @TempDir
    Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        Issued ca = TestCertificates.ca("CA");
        ec = TestCertificates.server(ca, "ec.test");
        rsa = TestCertificates.serverRsa(ca, "rsa.test");
    }

    @Test
    void readsTheWholeChainLeafFirst() throws Exception {
        Pem pem = ec.write(dir, "ec");

        assertThat(PemFiles.certificates(pem.certificate())).containsExactlyElementsOf(ec.chain());
    }

    @Test
    void readsPkcs8AndTraditionalKeysOfBothKinds() throws Exception {
        for (Issued issued : new Issued[] {ec, rsa}) {
            for (KeyFormat format : KeyFormat.values()) {
                Pem pem = issued.write(dir, "k" + format, format);
                String text = Files.readString(pem.key());
                assertThat(text).contains(format == KeyFormat.PKCS8 ? "BEGIN PRIVATE KEY"
                        : issued == ec ? "BEGIN EC PRIVATE KEY" : "BEGIN RSA PRIVATE KEY");

                PrivateKey key = PemFiles.privateKey(pem.key());

                if (issued == ec) { // SEC1 may carry the curve inside too: compare the secret itself
                    assertThat(((java.security.interfaces.ECPrivateKey) key).getS())
                            .isEqualTo(((java.security.interfaces.ECPrivateKey) issued.key()).getS());
                } else {
                    assertThat(key.getEncoded()).isEqualTo(issued.key().getEncoded());
                }
                PemFiles.checkPair(issued.certificate(), key);
            }
        }
    }

    @Test
    void skipsEcParametersBeforeTheKey() throws Exception {
        Pem pem = ec.write(dir, "ec", KeyFormat.TRADITIONAL);
        Files.writeString(pem.key(), "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                + Files.readString(pem.key()));

        assertThat(PemFiles.privateKey(pem.key()).getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void refusesEncryptedKeysAKeyOfAnotherCertificateAndFilesWithoutPem() throws Exception {
        Path encrypted = dir.resolve("enc.key");
        Files.writeString(encrypted, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertThatIllegalArgumentException().isThrownBy(() -> PemFiles.privateKey(encrypted))
                .withMessageContaining("is encrypted");

        Issued other = TestCertificates.server(TestCertificates.ca("CA2"), "ec.test");
        assertThatIllegalArgumentException().isThrownBy(() -> PemFiles.checkPair(ec.certificate(), other.key()))
                .withMessage("the key does not match the certificate");
        assertThatIllegalArgumentException().isThrownBy(() -> PemFiles.checkPair(ec.certificate(), rsa.key()))
                .withMessage("the key is RSA but the certificate's is EC");

        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatIllegalArgumentException().isThrownBy(() -> PemFiles.certificates(empty))
                .withMessageStartingWith("no PEM certificate");
        assertThatIllegalArgumentException().isThrownBy(() -> PemFiles.privateKey(dir.resolve("missing.key")))
                .withMessageEndingWith("No such file");
    }
}
