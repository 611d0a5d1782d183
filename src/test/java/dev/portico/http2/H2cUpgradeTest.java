package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The h2c upgrade from HTTP/1.1, as the JDK HttpClient does it for http:// URLs in HTTP_2 mode. */
@Timeout(60)
class H2cUpgradeTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void theJdkClientUpgradesAndLaterRequestsUseHttp2() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                    .route("/", backend.url()).build());
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> first = client.send(HttpRequest.newBuilder(portico.uri("/a?x=1"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(first.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).startsWith("GET /a?x=1");
            TestBackend.Received seen = backend.take();
            assertThat(seen.headers().get("host")).isEqualTo("127.0.0.1:" + portico.port());
            assertThat(seen.headers().get("via")).isEqualTo("1.1 portico");
            assertThat(seen.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http2"))
                    .noneMatch(n -> n.equalsIgnoreCase("upgrade") || n.equalsIgnoreCase("http2-settings"));

            HttpResponse<String> post = client.send(HttpRequest.newBuilder(portico.uri("/b"))
                    .POST(HttpRequest.BodyPublishers.ofString("hello")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(post.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(post.body()).isEqualTo("POST /b\nhello");
        }
    }

    @Test
    void anUpgradeThatCannotBeDoneIsServedAsHttp11() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                    .route("/", backend.url()).build());
            try (RawClient c = portico.raw()) {
                // A body, then a malformed HTTP2-Settings: neither upgrades, both are answered in HTTP/1.1.
                RawClient.Response withBody = c.send("POST /b HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, "
                        + "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
                        + "Content-Length: 2\r\n\r\nhi").read();
                assertThat(withBody.status()).isEqualTo(200);
                assertThat(withBody.body()).isEqualTo("POST /b\nhi");
            }
            try (RawClient c = portico.raw()) {
                RawClient.Response badSettings = c.send("GET /s HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, "
                        + "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: %%%\r\n\r\n").read();
                assertThat(badSettings.status()).isEqualTo(200);
                assertThat(badSettings.body()).isEqualTo("GET /s\n");
                assertThat(c.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").read().body()).isEqualTo("GET /next\n");
            }
            for (int i = 0; i < 3; i++) {
                assertThat(backend.take().headers().contains("upgrade")).isFalse();
            }
        }
    }

    @Test
    void aListenerWithoutH2cServesTheUpgradingClientWithHttp11() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(b -> b.route("/", backend.url()));
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(portico.uri("/a"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(backend.take().headers().contains("upgrade")).isFalse();
        }
    }

    @Test
    void onlyTheFirstRequestMayUpgradeSoAPipelinedUpgradeIsServedAsHttp11() throws Exception {
        String upgrade = "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n";
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                    .route("/", backend.url()).build());
            try (RawClient c = portico.raw()) {
                c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n" + upgrade + "\r\n");
                RawClient.Response a = c.read();
                RawClient.Response b = c.read();
                assertThat(a.status()).isEqualTo(200);
                assertThat(a.body()).isEqualTo("GET /a\n");
                assertThat(b.status()).isEqualTo(200);
                assertThat(b.body()).isEqualTo("GET /b\n");
            }
            try (RawClient c = portico.raw()) {
                assertThat(c.send("GET /c HTTP/1.1\r\nHost: a\r\n\r\n").read().body()).isEqualTo("GET /c\n");
                RawClient.Response d = c.send("GET /d HTTP/1.1\r\nHost: a\r\n" + upgrade + "\r\n").read();
                assertThat(d.status()).isEqualTo(200);
                assertThat(d.body()).isEqualTo("GET /d\n");
            }
        }
    }
}
