package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.testing.H3Client;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar serves HTTP/3 with its QUIC library, and still starts, TCP only, when that cannot load. */
class Http3CommandLineIT {
    @TempDir
    Path dir;

    private Path config(Issued ca, String backendUrl) throws Exception {
        TestCertificates.server(ca, "localhost").write(dir, "localhost");
        return Files.writeString(dir.resolve("portico.yaml"), """
                listen:
                  - address: 127.0.0.1:0
                    tls: {certificate: localhost.pem, key: localhost.key}
                    http3: true
                routes: {/: "%s"}
                """.formatted(backendUrl));
    }

    @Test
    @Timeout(60)
    void theJarServesHttp3() throws Exception {
        Issued ca = TestCertificates.ca("CA");
        try (TestBackend backend = TestBackend.echo();
             PorticoProcess p = PorticoProcess.start("--config", config(ca, backend.url()).toString())) {
            int port = p.awaitPort();
            assertThat(p.stderr()).contains("HTTP/3 on udp 127.0.0.1:" + port);
            try (H3Client h3 = new H3Client(port, ca.certificate(), "localhost")) {
                H3Client.Response r = h3.get("/over-quic").get(20, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).startsWith("GET /over-quic");
            }
        }
    }

    @Test
    @Timeout(60)
    void withoutItsQuicLibraryTheJarServesTcpOnlyAfterOneWarning() throws Exception {
        Issued ca = TestCertificates.ca("CA");
        // Native libraries are unpacked into io.netty.native.workdir: a file there instead of a directory makes
        // every one of them fail to load (QUIC, and epoll and OpenSSL too, which fall back to NIO and the JDK).
        Path notADirectory = Files.writeString(dir.resolve("not-a-directory"), "");
        try (TestBackend backend = TestBackend.echo();
             PorticoProcess p = PorticoProcess.start(List.of("-Dio.netty.native.workdir=" + notADirectory),
                     "--config", config(ca, backend.url()).toString())) {
            int port = p.awaitPort();
            assertThat(p.stderr()).containsOnlyOnce("listen[0].http3: the QUIC native library cannot load")
                    .doesNotContain("HTTP/3 on udp");
            HttpClient c = HttpClient.newBuilder().sslContext(TestCertificates.trusting(ca)).build();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/tcp"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("alt-svc")).isEmpty();
        }
    }
}
