package dev.portico.http3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.H3Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** QUIC handshakes follow the listener's certificate files when they change, as TCP handshakes do. */
@Timeout(60)
class Http3CertificateReloadTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    @Test
    void newQuicHandshakesUseTheNewCertificateAfterAReload() throws Exception {
        Issued oldCa = TestCertificates.ca("old CA");
        Issued newCa = TestCertificates.ca("new CA");
        Pem pem = TestCertificates.server(oldCa, "localhost").write(dir, "a");
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(ProxyConfig.builder().listen(ListenerConfig.builder().address("127.0.0.1", 0)
                    .tls(t -> t.certificate(pem.certificate(), pem.key())).http3(true).build())
                    .route("/", backend.url()).workers(1).build());
            try (H3Client h3 = new H3Client(portico.port(), oldCa.certificate(), "localhost")) {
                assertThat(h3.get("/before").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThatThrownBy(() -> new H3Client(portico.port(), newCa.certificate(), "localhost").close())
                    .as("the new CA is not trusted for the old certificate").isNotNull();

            TestCertificates.server(newCa, "localhost").write(dir, "a");
            assertThat(portico.proxy().reloadCertificates()).isEqualTo(1);

            try (H3Client h3 = new H3Client(portico.port(), newCa.certificate(), "localhost")) {
                assertThat(h3.get("/after").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
        }
    }
}
