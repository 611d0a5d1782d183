package dev.portico.http3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.testing.H3Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/3 requests through Portico to HTTP/1.1 backends, with Netty's HTTP/3 client. */
@Timeout(60)
class Http3RequestsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    private H3Client client() throws Exception {
        return new H3Client(portico.port(), Http3Fixture.ca().certificate(), "localhost");
    }

    @Test
    void getReachesTheBackendAsHttp11WithoutABodyAndTheAnswerComesBack() throws Exception {
        try (TestBackend backend = TestBackend.start((req, ctx) -> {
            var r = TestBackend.text(HttpResponseStatus.CREATED, "made " + req.uri());
            r.headers().set("x-from-backend", "yes");
            ctx.writeAndFlush(r);
        })) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                H3Client.Response r = h3.send("GET", "/things?id=7", Map.of("x-custom", "v1"), null)
                        .get(20, TimeUnit.SECONDS);

                assertThat(r.status()).isEqualTo(201);
                assertThat(r.text()).isEqualTo("made /things?id=7");
                assertThat(r.headers().get("x-from-backend").toString()).isEqualTo("yes");
                TestBackend.Received got = backend.take();
                assertThat(got.method()).isEqualTo("GET");
                assertThat(got.headers().get("x-custom")).isEqualTo("v1");
                assertThat(got.headers().get("Host")).isEqualTo("localhost");
                assertThat(got.headers().get("X-Forwarded-Proto")).isEqualTo("https");
                assertThat(got.headers().contains("Transfer-Encoding")).as("a GET without a body has none").isFalse();
                assertThat(got.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http3-"));
                assertThat(got.body()).isEmpty();
            }
        }
    }

    @Test
    void postBodyIsForwardedAndEchoed() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                byte[] body = "hello over quic".getBytes(StandardCharsets.UTF_8);
                H3Client.Response r = h3.send("POST", "/submit", Map.of("content-type", "text/plain"), body)
                        .get(20, TimeUnit.SECONDS);

                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("POST /submit\nhello over quic");
                assertThat(backend.take().headers().get("Content-Length")).isEqualTo(Integer.toString(body.length));
            }
        }
    }

    @Test
    void severalRequestsShareOneConnection() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                for (int i = 0; i < 5; i++) {
                    assertThat(h3.get("/n" + i).get(20, TimeUnit.SECONDS).text()).startsWith("GET /n" + i);
                }
            }
        }
    }

    @Test
    void tcpAnswersOnTheListenerAdvertiseHttp3WithAltSvc() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            String expected = "h3=\":" + portico.port() + "\"; ma=86400";
            for (HttpClient.Version v : new HttpClient.Version[] {HttpClient.Version.HTTP_1_1,
                    HttpClient.Version.HTTP_2}) {
                HttpClient c = HttpClient.newBuilder().version(v)
                        .sslContext(TestCertificates.trusting(Http3Fixture.ca())).build();
                HttpResponse<String> r = c.send(HttpRequest.newBuilder(
                        java.net.URI.create("https://localhost:" + portico.port() + "/alt"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

                assertThat(r.version()).isEqualTo(v);
                assertThat(r.headers().firstValue("alt-svc")).as(v.toString()).hasValue(expected);
            }
        }
    }

    @Test
    void anIpFilterRefusesHttp3RequestsWith403() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", r -> r.upstream(backend.url())
                    .policies(IpFilterPolicyConfig.deny("127.0.0.0/8"))));
            try (H3Client h3 = client()) {
                assertThat(h3.get("/secret").get(20, TimeUnit.SECONDS).status()).isEqualTo(403);
                assertThat(backend.pending()).isZero();
            }
        }
    }

    @Test
    void aRespondPolicyAnswersOverHttp3() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            Http3Fixture.start(portico, dir, b -> b.route("/robots.txt", r -> r.upstream(backend.url())
                    .policies(RespondPolicyConfig.of(200, "User-agent: *\n"))));
            try (H3Client h3 = client()) {
                H3Client.Response r = h3.get("/robots.txt").get(20, TimeUnit.SECONDS);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("User-agent: *\n");
            }
        }
    }

    @Test
    void aRequestWithoutRouteGets404() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            Http3Fixture.start(portico, dir, b -> b.route("/api/", backend.url()));
            try (H3Client h3 = client()) {
                assertThat(h3.get("/elsewhere").get(20, TimeUnit.SECONDS).status()).isEqualTo(404);
            }
        }
    }
}
