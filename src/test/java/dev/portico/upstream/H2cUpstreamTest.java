package dev.portico.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.H2Backend;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Requests from HTTP/1.1 and HTTP/2 clients reach an h2c backend over multiplexed HTTP/2 streams. */
@Timeout(60)
class H2cUpstreamTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private void start(H2Backend backend) {
        UpstreamConfig up = UpstreamConfig.builder("h2").servers(backend.url("http"))
                .protocol(UpstreamConfig.Protocol.H2C).build();
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(up)).build());
    }

    @Test
    void anHttp11ClientReachesAnH2cBackendWithTheHeaderRulesOfRfc9113() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend);
            HttpResponse<String> r = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(HttpRequest.newBuilder(portico.uri("/a/b?x=1")).build(), BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("GET /a/b?x=1 0\n");
            assertThat(r.headers().map().keySet()).noneMatch(n -> n.startsWith("x-http2"));
            H2Backend.Received seen = backend.take();
            assertThat(seen.protocol()).isEqualTo("h2");
            assertThat(seen.headers().get("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(seen.headers().names()).noneMatch(n -> n.equalsIgnoreCase("connection")
                    || n.equalsIgnoreCase("keep-alive") || n.equalsIgnoreCase("transfer-encoding")
                    || n.equalsIgnoreCase("upgrade"));
        }
    }

    @Test
    void postsABodyAndReusesTheConnectionForTheNextRequest() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend);
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = portico.send(HttpRequest.newBuilder(portico.uri("/post"))
                        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build());
                assertThat(r.body()).isEqualTo("POST /post 100000\n");
            }
            assertThat(backend.accepted()).isEqualTo(1);
        }
    }

    @Test
    void anHttp2ClientReachesAnH2cBackend() throws Exception {
        try (H2Backend backend = H2Backend.h2c(); H2Client client = connect(backend)) {
            H2Client.Result r = client.get("/h2").get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyStart()).isEqualTo("GET /h2 0\n");
        }
    }

    @Test
    void healthChecksOfAnH2cUpstreamSpeakHttp2() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            UpstreamConfig up = UpstreamConfig.builder("h2").servers(backend.url("http"))
                    .protocol(UpstreamConfig.Protocol.H2C)
                    .healthCheck("/healthz", h -> h.interval(java.time.Duration.ofMillis(100))).build();
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                    .route("/", r -> r.upstream(up)).build());
            H2Backend.Received check = backend.take();
            assertThat(check.uri()).isEqualTo("/healthz");
            assertThat(check.protocol()).isEqualTo("h2");
            // Checks pass: the endpoint stays in service and requests reach it.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> backend.accepted() >= 3);
            assertThat(portico.get("/after-checks").body()).isEqualTo("GET /after-checks 0\n");
        }
    }

    private H2Client connect(H2Backend backend) throws InterruptedException {
        start(backend);
        return H2Client.connect(portico.port());
    }
}
