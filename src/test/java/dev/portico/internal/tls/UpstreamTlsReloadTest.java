package dev.portico.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.config.ReloadResult;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The CA, certificate and key files of an https:// upstream are read again when they change. */
@Timeout(60)
class UpstreamTlsReloadTest {
    @TempDir
    Path dir;
    private Issued oldCa;
    private TestBackend backend;
    private ProxyServer proxy;
    private Path caFile;

    @BeforeEach
    void backendSignedByANewCa() throws Exception {
        oldCa = TestCertificates.ca("Old CA");
        Issued newCa = TestCertificates.ca("New CA");
        Issued cert = TestCertificates.server(newCa, "backend.test");
        backend = TestBackend.startTls(SslContextBuilder.forServer(cert.key(), cert.chain())
                .sslProvider(SslProvider.JDK).build(), (req, c) -> c.writeAndFlush(
                        TestBackend.text(HttpResponseStatus.OK, "secure " + req.uri())));
        caFile = oldCa.write(dir, "ca").certificate();
        Files.writeString(dir.resolve("new-ca.pem"), Files.readString(newCa.write(dir, "new-ca").certificate()));
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
        System.clearProperty(TlsRuntime.RELOAD_CHECK_PROPERTY);
    }

    private void start() throws IOException {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\nroutes:\n  - path: /\n"
                + "    upstream: \"https://127.0.0.1:" + backend.port() + "\"\n"
                + "    upstream_tls: {ca: ca.pem, server_name: backend.test}\n");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
    }

    private int status() throws IOException {
        try (RawClient c = new RawClient(proxy.port())) {
            c.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
            return c.read().status();
        }
    }

    private void rotateCa() throws IOException {
        TestCertificates.writeAtomically(caFile, Files.readString(dir.resolve("new-ca.pem")));
    }

    @Test
    void aReloadWithTheSameSettingsUsesTheRotatedCa() throws Exception {
        System.setProperty(TlsRuntime.RELOAD_CHECK_PROPERTY, "600000"); // the reload alone must do it
        start();
        assertThat(status()).as("the backend's CA is not trusted yet").isEqualTo(502);

        rotateCa();
        ReloadResult r = proxy.reload().get(10, TimeUnit.SECONDS);

        assertThat(r.problems()).isEmpty();
        assertThat(r.applied()).isTrue();
        assertThat(status()).isEqualTo(200);
    }

    @Test
    void aBackendSignedByAnUntrustedCaIsLoggedAsSuch() throws Exception {
        start();
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                TlsListenerTest.capture("dev.portico.internal.proxy.ProxyExchange");
        try {
            assertThat(status()).isEqualTo(502);

            assertThat(log.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .anySatisfy(m -> assertThat(m).contains("not signed by a trusted CA")
                            .doesNotContain("General OpenSslEngine problem"));
        } finally {
            TlsListenerTest.release(log, "dev.portico.internal.proxy.ProxyExchange");
        }
    }

    @Test
    void aRotatedCaIsPickedUpWithoutAReload() throws Exception {
        System.setProperty(TlsRuntime.RELOAD_CHECK_PROPERTY, "100");
        start();
        assertThat(status()).isEqualTo(502);

        TestCertificates.writeAtomically(caFile, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");
        rotateCa();

        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> status() == 200);
    }
}
