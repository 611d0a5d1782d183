package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** TLS from the packaged jar: OpenSSL loads from inside it, and bad files are configuration errors (exit 2). */
class TlsCommandLineIT {
    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void theJarServesTlsThroughOpenSsl() throws Exception {
        Issued ca = TestCertificates.ca("CA");
        TestCertificates.server(ca, "localhost").write(dir, "localhost", TestCertificates.KeyFormat.TRADITIONAL);
        try (TestBackend backend = TestBackend.echo()) {
            Path config = Files.writeString(dir.resolve("portico.yaml"), """
                    listen:
                      - address: 127.0.0.1:0
                        tls: {certificate: localhost.pem, key: localhost.key}
                    routes: {/: "%s"}
                    """.formatted(backend.url()));
            try (PorticoProcess p = PorticoProcess.start("--config", config.toString())) {
                int port = p.awaitPort();
                assertThat(p.stderr()).contains("TLS provider: OpenSSL");
                try (SSLSocket s = (SSLSocket) TestCertificates.trusting(ca).getSocketFactory()
                        .createSocket(InetAddress.getLoopbackAddress(), port)) {
                    s.setSoTimeout(5000);
                    RawClient c = new RawClient(s);
                    c.send("GET /hi HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    assertThat(c.read().status()).isEqualTo(200);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> p.stdout().contains("TLSv1.3"));
            }
        }
    }

    @Test
    @Timeout(60)
    void aKeyThatDoesNotMatchItsCertificateExitsTwoNamingTheKey() throws Exception {
        Issued ca = TestCertificates.ca("CA");
        TestCertificates.server(ca, "localhost").write(dir, "a");
        TestCertificates.server(ca, "localhost").write(dir, "b");
        Path config = Files.writeString(dir.resolve("portico.yaml"), """
                listen:
                  - address: 127.0.0.1:0
                    tls: {certificate: a.pem, key: b.key}
                routes: {/: "http://127.0.0.1:9"}
                """);

        PorticoProcess.Result r = PorticoProcess.run("--check", "--config", config.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains(config + ": listen[0].tls.key: the key does not match the certificate");
    }
}
