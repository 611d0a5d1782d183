package dev.portico.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.StreamBackend;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 over TLS, chosen by ALPN, through to HTTP/1.1 backends: the JDK HttpClient and curl. */
@Timeout(60)
class Http2TlsTest {
    private static final int LARGE = 8 << 20;
    private static Issued ca;
    private static Issued server;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca("Test CA");
        server = TestCertificates.server(ca, "localhost");
    }

    private void start(String backendUrl) throws Exception {
        Pem pem = server.write(dir, "localhost", TestCertificates.KeyFormat.PKCS8);
        ListenerTlsConfig tls = new ListenerTlsConfig(List.of(new CertificateConfig(pem.certificate(), pem.key())),
                ListenerTlsConfig.DEFAULT_PROTOCOLS, ListenerTlsConfig.DEFAULT_ALPN, ListenerTlsConfig.ClientAuth.NONE,
                null);
        portico.start(ProxyConfig.builder().listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0), tls, false))
                .route("/", backendUrl).workers(1).build());
    }

    private HttpClient h2Client() throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestCertificates.trusting(ca))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private URI uri(String path) {
        return URI.create("https://localhost:" + portico.port() + path);
    }

    @Test
    void theJdkClientSpeaksH2ToPorticoAndTheBackendGetsHttp11WithForwardedProtoHttps() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            start(backend.url());

            HttpResponse<String> r = h2Client().send(HttpRequest.newBuilder(uri("/hello?x=1"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("GET /hello?x=1");
            TestBackend.Received got = backend.take();
            assertThat(got.headers().get("X-Forwarded-Proto")).isEqualTo("https");
            assertThat(got.headers().get("Host")).isEqualTo("localhost:" + portico.port());
        }
    }

    @Test
    void largeBodiesPassBothWaysOverH2() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            start(backend.url());
            HttpClient client = h2Client();

            HttpResponse<InputStream> down = client.send(HttpRequest.newBuilder(uri("/stream?bytes=" + LARGE))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(down.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(count(down.body())).isEqualTo(LARGE);

            byte[] up = new byte[LARGE];
            HttpResponse<InputStream> echoed = client.send(HttpRequest.newBuilder(uri("/echo"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(up)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(echoed.statusCode()).isEqualTo(200);
            assertThat(count(echoed.body())).isEqualTo(LARGE);
        }
    }

    @Test
    void curlHttp2NegotiatesH2() throws Exception {
        assumeThat(new File("/usr/bin/curl")).as("curl is installed").exists();
        try (TestBackend backend = TestBackend.echo()) {
            start(backend.url());
            Path caFile = ca.write(dir, "ca").certificate();

            Process p = new ProcessBuilder("/usr/bin/curl", "-sS", "--http2", "--cacert", caFile.toString(),
                    "--max-time", "10", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                    uri("/curl").toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();

            assertThat(out).isEqualTo("2 200");
            assertThat(backend.take().uri()).isEqualTo("/curl");
        }
    }

    private static long count(InputStream in) throws IOException {
        try (in) {
            byte[] buf = new byte[64 * 1024];
            long n = 0;
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
            return n;
        }
    }
}
