package dev.portico.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Certificates are re-read when their files change, without dropping a connection; bad files are refused. */
@Timeout(30)
class CertificateReloadTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void stop() {
        backend.close();
        System.clearProperty(TlsRuntime.RELOAD_CHECK_PROPERTY);
    }

    private static BigInteger serial(SSLSocket s) throws Exception {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }

    @Test
    void aChangedCertificateIsUsedForNewHandshakesWhileAnOpenConnectionKeepsWorking() throws Exception {
        System.setProperty(TlsRuntime.RELOAD_CHECK_PROPERTY, "100");
        Issued ca = TestCertificates.ca("Test CA");
        Issued first = TestCertificates.server(ca, "a.test");
        Pem pem = first.write(dir, "a");
        portico.start(ProxyConfig.builder()
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                        ListenerTlsConfig.of(pem.certificate(), pem.key()), false))
                .route("/", backend.url()).workers(1).build());
        SSLContext client = TestCertificates.trusting(ca);

        try (SSLSocket old = TlsClient.connect(client, portico.port(), "a.test")) {
            assertThat(serial(old)).isEqualTo(first.certificate().getSerialNumber());
            assertThat(TlsClient.get(old, "a.test", "/before").status()).isEqualTo(200);

            Issued second = TestCertificates.server(ca, "a.test"); // new key too: key written before certificate
            second.write(dir, "a", TestCertificates.KeyFormat.TRADITIONAL);

            Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                try (SSLSocket s = TlsClient.connect(client, portico.port(), "a.test")) {
                    return serial(s).equals(second.certificate().getSerialNumber());
                }
            });
            // the connection made before the swap still works, with its certificate
            assertThat(TlsClient.get(old, "a.test", "/after").status()).isEqualTo(200);
            assertThat(serial(old)).isEqualTo(first.certificate().getSerialNumber());
        }
    }

    @Test
    void aBadNewFileKeepsTheCurrentCertificateAndSaysWhy() throws Exception {
        Issued ca = TestCertificates.ca("Test CA");
        Issued first = TestCertificates.server(ca, "a.test");
        Pem pem = first.write(dir, "a");
        portico.start(ProxyConfig.builder()
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                        ListenerTlsConfig.of(pem.certificate(), pem.key()), false))
                .route("/", backend.url()).workers(1).build());
        SSLContext client = TestCertificates.trusting(ca);
        ListAppender<ILoggingEvent> log = TlsListenerTest.capture("portico");
        try {
            // a certificate whose key is not the one in the key file (a half-done update)
            Issued other = TestCertificates.server(ca, "a.test");
            TestCertificates.writeAtomically(pem.certificate(),
                    Files.readString(other.write(dir, "other").certificate()));
            assertThat(portico.proxy().reloadCertificates()).isZero();
            // garbage in the key file
            TestCertificates.writeAtomically(pem.key(), "not a key\n");
            assertThat(portico.proxy().reloadCertificates()).isZero();
            // nothing changed since: nothing to report again
            assertThat(portico.proxy().reloadCertificates()).isZero();

            assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).filteredOn(m -> m.contains("keeping"))
                    .hasSize(2)
                    .anySatisfy(m -> assertThat(m).contains("listen[0].tls.certificates[0].key")
                            .contains("does not match the certificate"))
                    .anySatisfy(m -> assertThat(m).contains("listen[0].tls.certificates[0].key")
                            .contains("no PEM private key"));
            try (SSLSocket s = TlsClient.connect(client, portico.port(), "a.test")) {
                assertThat(serial(s)).isEqualTo(first.certificate().getSerialNumber());
                assertThat(TlsClient.get(s, "a.test", "/").status()).isEqualTo(200);
            }

            // the matching key arrives: the update completes
            other.write(dir, "a");
            assertThat(portico.proxy().reloadCertificates()).isEqualTo(1);
            try (SSLSocket s = TlsClient.connect(client, portico.port(), "a.test")) {
                assertThat(serial(s)).isEqualTo(other.certificate().getSerialNumber());
            }
        } finally {
            TlsListenerTest.release(log, "portico");
        }
    }
}
