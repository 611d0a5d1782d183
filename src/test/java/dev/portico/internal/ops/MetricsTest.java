package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.OperationsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /metrics} scraped and parsed after known traffic, and the other admin endpoints. */
class MetricsTest {
    static final OperationsConfig ADMIN = new OperationsConfig(new ListenAddress("127.0.0.1", 0), true,
            OperationsConfig.DEFAULT_REQUEST_ID_HEADER, false, false);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    @Test
    @Timeout(30)
    void countsExactlyWhatWasSentByRouteStatusClassAndFailureKind() throws Exception {
        portico.start(b -> b.route("/api", backend.url()).route("/down", "http://127.0.0.1:1").operations(ADMIN));
        Admin admin = new Admin(portico.proxy().adminAddress());
        long bodyBytes = 0;
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = portico.get("/api/item/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            bodyBytes += r.body().length();
        }
        HttpResponse<String> post = portico.send(HttpRequest.newBuilder(portico.uri("/api/upload"))
                .POST(HttpRequest.BodyPublishers.ofString("0123456789")).timeout(Duration.ofSeconds(10)).build());
        assertThat(post.statusCode()).isEqualTo(200);
        bodyBytes += post.body().length();
        assertThat(portico.get("/nowhere").statusCode()).isEqualTo(404);
        assertThat(portico.get("/nowhere/else").statusCode()).isEqualTo(404);
        assertThat(portico.get("/down/x").statusCode()).isEqualTo(502);
        String api = backend.url();
        long expectedBytes = bodyBytes;

        // The counts are updated just after the last byte is sent: wait for them to settle, then compare exactly.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Prometheus m = admin.metrics();
            assertThat(m.value("portico_requests_total", "route", "/api", "upstream", api, "status_class", "2xx"))
                    .isEqualTo(4.0);
            assertThat(m.value("portico_requests_total", "route", "/down", "status_class", "5xx")).isEqualTo(1.0);
            assertThat(m.value("portico_rejected_requests_total", "reason", "no_route")).isEqualTo(2.0);
            assertThat(m.value("portico_rejected_requests_total", "reason", "connect_refused")).isEqualTo(1.0);
            assertThat(m.value("portico_upstream_connect_failures_total", "upstream", "http://127.0.0.1:1",
                    "kind", "refused")).isEqualTo(1.0);
            assertThat(m.value("portico_request_duration_seconds_count", "route", "/api")).isEqualTo(4.0);
            assertThat(m.value("portico_upstream_response_time_seconds_count", "route", "/api")).isEqualTo(4.0);
            assertThat(m.value("portico_response_bytes_total", "route", "/api")).isEqualTo((double) expectedBytes);
            assertThat(m.value("portico_request_bytes_total", "route", "/api")).isEqualTo(10.0);
        });
        Prometheus m = admin.metrics();
        assertThat(m.value("portico_requests_total", "route", "/api", "status_class", "5xx")).isZero();
        assertThat(m.value("portico_request_duration_seconds_bucket", "route", "/api", "le", "+Inf")).isEqualTo(4.0);
        assertThat(m.value("portico_retries_total", "route", "/api")).isZero();
        assertThat(m.value("portico_rejected_requests_total", "reason", "bad_request")).isZero();
        assertThat(m.value("portico_upstream_connections", "state", "idle")).isEqualTo(1.0);
        assertThat(m.value("portico_upstream_connections", "state", "active")).isZero();
        assertThat(m.value("portico_reloads_total", "outcome", "success")).isZero();
        assertThat(m.value("portico_tls_handshakes_total", "outcome", "failure")).isZero();
        assertThat(m.value("portico_access_log_dropped_total")).isZero();
        assertThat(m.value("portico_netty_direct_memory_used_bytes")).isNotEqualTo(-1.0);
        assertThat(m.has("jvm_memory_used_bytes")).isTrue();
        assertThat(m.has("jvm_gc_pause_seconds_count") || m.has("jvm_gc_memory_allocated_bytes_total")).isTrue();
        assertThat(m.has("process_cpu_usage")).isTrue();
        try (RawClient held = portico.raw()) {
            held.send("GET /api/held HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(held.read().status()).isEqualTo(200);
            assertThat(admin.metrics().value("portico_client_connections_active")).isGreaterThanOrEqualTo(1.0);
        }
    }

    @Test
    @Timeout(30)
    void answersHealthReadinessConfigAndRefusesWhatIsNotAnEndpoint() throws Exception {
        portico.start(b -> b.route("/api", backend.url()).operations(ADMIN));
        Admin admin = new Admin(portico.proxy().adminAddress());

        assertThat(admin.get("/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = admin.get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready\n");
        HttpResponse<String> metrics = admin.get("/metrics");
        assertThat(metrics.headers().firstValue("content-type")).contains(AdminHandler.PROMETHEUS_TEXT);
        HttpResponse<String> config = admin.get("/config");
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat(config.headers().firstValue("content-type")).contains("application/json");
        assertThat(config.body()).contains("\"routes\":[{\"path\":\"/api\"", "\"servers\":[{\"url\":\"" + backend.url() + "\"",
                "\"drain_delay\":\"0s\"", "\"admin_listen\":\"127.0.0.1:0\"", "\"request_id_header\":\"X-Request-Id\"");
        assertThat(admin.get("/nothing").statusCode()).isEqualTo(404);
        HttpResponse<String> getReload = admin.get("/reload");
        assertThat(getReload.statusCode()).isEqualTo(405);
        assertThat(getReload.headers().firstValue("allow")).contains("POST");
        HttpResponse<String> reload = admin.post("/reload");
        assertThat(reload.statusCode()).isEqualTo(400);
        assertThat(reload.body()).contains("\"applied\":false", "not loaded from a file");
        assertThat(admin.post("/healthz").statusCode()).isEqualTo(405);
    }
}
