package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.LimitsConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Responses Portico makes itself are counted by status class too, with route and upstream {@code none}. */
@Timeout(30)
class LocalResponseMetricsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    @Test
    void localResponsesOfHttp11AndHttp2AreCountedByStatusClass() throws Exception {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .limits(new LimitsConfig(1024, 2048, 0)).route("/api", backend.url())
                .operations(MetricsTest.ADMIN).build());
        Admin admin = new Admin(portico.proxy().adminAddress());
        assertThat(portico.get("/nowhere").statusCode()).isEqualTo(404);
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
        }
        try (RawClient c = portico.raw()) {
            c.send("GET /api HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(3000) + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(431);
        }
        try (H2Client h2 = H2Client.connect(portico.port())) {
            // Only the count is checked here: whether the stream's body survives the reset that follows it is a
            // matter of the HTTP/2 stream handling, tested on its own.
            h2.get("/elsewhere").handle((r, e) -> null).get(10, TimeUnit.SECONDS);
        }
        assertThat(portico.get("/api/ok").statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Prometheus m = admin.metrics();
            assertThat(m.value("portico_requests_total", "route", "none", "upstream", "none",
                    "status_class", "4xx")).isEqualTo(4.0);
            assertThat(m.value("portico_requests_total", "route", "/api", "status_class", "2xx")).isEqualTo(1.0);
        });
        assertThat(admin.metrics().value("portico_requests_total", "route", "none", "status_class", "2xx")).isZero();
    }
}
