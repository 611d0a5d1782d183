package dev.portico.internal.trace;

import static dev.portico.internal.trace.OtlpReceiver.attr;
import static dev.portico.internal.trace.OtlpReceiver.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ProxyConfig;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.WebSocketBackend;
import dev.portico.testing.WebSocketTestClient;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Spans exported over OTLP/HTTP to a collector in the test: their parents, names, attributes, and their cost. */
@Timeout(60)
class TracingTest {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CALLER = "00f067aa0ba902b7";
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final OtlpReceiver collector = new OtlpReceiver();

    TracingTest() throws java.io.IOException {
    }

    @AfterEach
    void stopCollector() {
        if (portico.proxy() != null) {
            portico.proxy().stop(); // first: its last spans are sent while the collector still listens
        }
        collector.close();
    }

    private void startOn(String listen, String tracing, String... backends) {
        portico.start(ProxyConfig.parse("""
                listen: %s
                workers: 1
                admin: {listen: 127.0.0.1:0}
                upstreams:
                  app:
                    servers: [%s]
                    retry: {attempts: 1, retry_on: [503]}
                    passive: {consecutive_failures: 0}
                routes: {/api: app}
                tracing:
                %s
                """.formatted(listen, String.join(", ", backends), tracing.indent(2)), "test.yaml"));
    }

    private void start(String tracing, String... backends) {
        startOn("127.0.0.1:0", tracing, backends);
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String admin(String path, String accept) throws Exception {
        var a = portico.proxy().adminAddress();
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + path))
                .header("Accept", accept).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private List<Span> awaitSpans(int n) {
        await().atMost(Duration.ofSeconds(20)).until(() -> collector.spans().size() >= n);
        return collector.spans();
    }

    private static Span only(List<Span> spans, Span.SpanKind kind) {
        assertThat(spans).filteredOn(s -> s.getKind() == kind).hasSize(1);
        return spans.stream().filter(s -> s.getKind() == kind).findFirst().orElseThrow();
    }

    @Test
    void aSampledCallerGetsAServerSpanATrySpanAndTheBackendATraceparentNamingTheTry() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            // Ratio 0: only the caller's sampled flag (parent_based) can make this request traced.
            start("otlp: {endpoint: '%s', headers: {x-api-key: s3cret}}\nsampler: {ratio: 0}\nservice_name: edge"
                    .formatted(collector.endpoint()), backend.url());

            HttpResponse<String> r = get("/api/items?x=1", "traceparent", "00-" + TRACE + "-" + CALLER + "-01",
                    "User-Agent", "tracing-test");

            assertThat(r.statusCode()).isEqualTo(200);
            String sent = backend.take().headers().get("traceparent");
            List<Span> spans = awaitSpans(2);
            Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
            Span attempt = only(spans, Span.SpanKind.SPAN_KIND_CLIENT);
            assertThat(hex(server.getTraceId())).isEqualTo(TRACE);
            assertThat(hex(server.getParentSpanId())).isEqualTo(CALLER);
            assertThat(hex(attempt.getTraceId())).isEqualTo(TRACE);
            assertThat(hex(attempt.getParentSpanId())).isEqualTo(hex(server.getSpanId()));
            assertThat(sent).isEqualTo("00-" + TRACE + "-" + hex(attempt.getSpanId()) + "-01");
            assertThat(server.getName()).isEqualTo("GET /api");
            assertThat(attr(server, "http.request.method")).isEqualTo("GET");
            assertThat(attr(server, "url.path")).isEqualTo("/api/items");
            assertThat(attr(server, "url.scheme")).isEqualTo("http");
            assertThat(attr(server, "http.route")).isEqualTo("/api");
            assertThat(attr(server, "http.response.status_code")).isEqualTo("200");
            assertThat(attr(server, "server.address")).isEqualTo("127.0.0.1");
            assertThat(attr(server, "client.address")).isEqualTo("127.0.0.1");
            assertThat(attr(server, "network.protocol.version")).isEqualTo("1.1");
            assertThat(attr(server, "user_agent.original")).isEqualTo("tracing-test");
            assertThat(attr(server, "http.response.body.size")).isEqualTo(Long.toString(r.body().length()));
            assertThat(server.getStatus().getCode()).isNotEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(attr(attempt, "server.port")).isEqualTo(Integer.toString(backend.port()));
            assertThat(attr(attempt, "portico.attempt")).isEqualTo("1");
            assertThat(attempt.getEventsList()).extracting(Span.Event::getName).contains("connect",
                    "connection.acquired");
            assertThat(collector.resource("service.name")).isEqualTo("edge");
            assertThat(collector.resource("host.name")).isNotBlank();
            assertThat(collector.apiKeys()).contains("s3cret");
            // The admin endpoint shows the exporter's header names, never their values.
            assertThat(admin("/config", "application/json")).contains("x-api-key").doesNotContain("s3cret");
        }
    }

    @Test
    void theLatencyHistogramCarriesTheTraceIdAsAnExemplarInOpenMetrics() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            start("otlp: {endpoint: '%s'}".formatted(collector.endpoint()), backend.url());

            assertThat(get("/api/x", "traceparent", "00-" + TRACE + "-" + CALLER + "-01").statusCode())
                    .isEqualTo(200);

            // The exchange is recorded just after its last byte is sent, which the client may see first.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                    admin("/metrics", "application/openmetrics-text; version=1.0.0"))
                    .containsPattern("portico_request_duration_seconds_bucket\\{.*} \\d+ # \\{span_id=\""
                            + "[0-9a-f]{16}\",trace_id=\"" + TRACE + "\"}"));
            assertThat(admin("/metrics", "text/plain")).doesNotContain("trace_id");
        }
    }

    @Test
    void aRetriedRequestHasTwoTrySpansTheFirstWithItsRetryReason() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        try (TestBackend flaky = TestBackend.start((req, ctx) -> ctx.writeAndFlush(hits.incrementAndGet() == 1
                ? TestBackend.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "busy")
                : TestBackend.text(HttpResponseStatus.OK, "ok")))) {
            start("otlp: {endpoint: '%s'}".formatted(collector.endpoint()), flaky.url());

            assertThat(get("/api/r").statusCode()).isEqualTo(200);

            List<Span> spans = awaitSpans(3);
            Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
            List<Span> tries = spans.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                    .sorted(java.util.Comparator.comparing(s -> attr(s, "portico.attempt"))).toList();
            assertThat(tries).hasSize(2);
            assertThat(tries).allSatisfy(t -> assertThat(t.getParentSpanId()).isEqualTo(server.getSpanId()));
            assertThat(attr(tries.get(0), "portico.attempt")).isEqualTo("1");
            assertThat(attr(tries.get(0), "portico.retry.reason")).isEqualTo("upstream answered 503");
            assertThat(tries.get(0).getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(attr(tries.get(1), "portico.attempt")).isEqualTo("2");
            assertThat(attr(tries.get(1), "http.request.resend_count")).isEqualTo("1");
            assertThat(attr(tries.get(1), "http.response.status_code")).isEqualTo("200");
            assertThat(attr(server, "http.response.status_code")).isEqualTo("200");
        }
    }

    @Test
    void aPolicysAnswerGetsAServerSpanNamingThePolicy() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(ProxyConfig.parse("""
                    listen: 127.0.0.1:0
                    workers: 1
                    routes:
                      - path: /closed
                        upstream: %s
                        policies: [{ip_filter: {deny: [127.0.0.0/8]}}]
                    tracing: {otlp: {endpoint: '%s'}}
                    """.formatted(backend.url(), collector.endpoint()), "test.yaml"));

            assertThat(get("/closed/x").statusCode()).isEqualTo(403);

            Span server = only(awaitSpans(1), Span.SpanKind.SPAN_KIND_SERVER);
            assertThat(server.getName()).isEqualTo("GET /closed");
            assertThat(attr(server, "http.response.status_code")).isEqualTo("403");
            assertThat(attr(server, "portico.policy")).isEqualTo("ip_filter");
            assertThat(backend.pending()).isZero();
        }
    }

    @Test
    void aWebSocketsSpanEndsAtThe101() throws Exception {
        try (WebSocketBackend backend = new WebSocketBackend()) {
            portico.start(ProxyConfig.parse("listen: 127.0.0.1:0\nworkers: 1\nroutes: {/ws: '%s'}\n"
                    .formatted(backend.url()) + "tracing: {otlp: {endpoint: '%s'}}\n".formatted(collector.endpoint()),
                    "test.yaml"));
            try (WebSocketTestClient client = WebSocketTestClient.connect(portico.port(), "/ws")) {
                client.send(new TextWebSocketFrame("hello"));
                assertThat(client.next()).isEqualTo("hello");

                // The tunnel is still open: the request's span ended when it began.
                List<Span> spans = awaitSpans(2);
                Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
                assertThat(attr(server, "http.response.status_code")).isEqualTo("101");
                assertThat(only(spans, Span.SpanKind.SPAN_KIND_CLIENT).getParentSpanId())
                        .isEqualTo(server.getSpanId());
            }
        }
    }

    @Test
    void aRequestWithoutARouteGetsAServerSpanWithIts404() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            start("otlp: {endpoint: '%s'}".formatted(collector.endpoint()), backend.url());

            assertThat(get("/nowhere").statusCode()).isEqualTo(404);

            Span server = only(awaitSpans(1), Span.SpanKind.SPAN_KIND_SERVER);
            assertThat(server.getName()).isEqualTo("GET");
            assertThat(attr(server, "http.response.status_code")).isEqualTo("404");
            assertThat(attr(server, "http.route")).isNull();
            assertThat(server.getParentSpanId().isEmpty()).as("a root span").isTrue();
        }
    }

    @Test
    void anHttp2StreamGetsItsServerSpanAndTrySpan() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            startOn("{address: '127.0.0.1:0', h2c: true}", "otlp: {endpoint: '%s'}".formatted(collector.endpoint()),
                    backend.url());
            try (H2Client client = H2Client.connect(portico.port())) {
                assertThat(client.get("/api/h2").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }

            List<Span> spans = awaitSpans(2);
            Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
            assertThat(attr(server, "network.protocol.version")).isEqualTo("2");
            assertThat(server.getName()).isEqualTo("GET /api");
            assertThat(only(spans, Span.SpanKind.SPAN_KIND_CLIENT).getParentSpanId()).isEqualTo(server.getSpanId());
            assertThat(backend.take().headers().get("traceparent")).contains(hex(server.getTraceId()));
        }
    }

    @Test
    void aGrpcEndpointGetsTheSpansOverHttp2WithoutGrpcJava() throws Exception {
        try (TestBackend backend = TestBackend.echo(); GrpcReceiver grpc = new GrpcReceiver()) {
            start("otlp: {endpoint: '%s', timeout: 2s}".formatted(grpc.endpoint()), backend.url());

            assertThat(get("/api/g").statusCode()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(20)).until(() -> grpc.spans().size() >= 2);
            assertThat(grpc.spans()).extracting(Span::getKind)
                    .containsExactlyInAnyOrder(Span.SpanKind.SPAN_KIND_SERVER, Span.SpanKind.SPAN_KIND_CLIENT);
            assertThat(grpc.paths()).contains("/opentelemetry.proto.collector.trace.v1.TraceService/Export");
            assertThat(dropped()).as("every export was taken").isZero();
        }
    }

    @Test
    void requestsSampledOutExportNothingAndKeepTheirTraceparent() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            start("otlp: {endpoint: '%s'}\nsampler: {ratio: 0}".formatted(collector.endpoint()), backend.url());

            String notSampled = "00-" + TRACE + "-" + CALLER + "-00";
            assertThat(get("/api/a", "traceparent", notSampled).statusCode()).isEqualTo(200);
            assertThat(get("/api/b").statusCode()).isEqualTo(200);

            assertThat(backend.take().headers().get("traceparent")).isEqualTo(notSampled);
            assertThat(backend.take().headers().get("traceparent")).isNull();
            await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5))
                    .until(() -> collector.spans().isEmpty());
        }
    }

    @Test
    void aTraceparentGeneratedForASampledOutRequestSaysNotSampled() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            start("generate: true\notlp: {endpoint: '%s'}\nsampler: {ratio: 0}".formatted(collector.endpoint()),
                    backend.url());

            assertThat(get("/api/a").statusCode()).isEqualTo(200);

            // Portico exports no span for it: a backend following the flag must not start a trace without a root.
            assertThat(backend.take().headers().get("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00");
        }
    }

    @Test
    void aFailedExchangeHasErrorSpansNamingTheFailureKind() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        start("otlp: {endpoint: '%s'}".formatted(collector.endpoint()), "http://127.0.0.1:" + deadPort);

        assertThat(get("/api/down").statusCode()).isEqualTo(502);

        List<Span> spans = awaitSpans(2);
        Span server = only(spans, Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(server.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(attr(server, "error.type")).isEqualTo("connect_refused");
        assertThat(attr(server, "http.response.status_code")).isEqualTo("502");
        assertThat(spans).filteredOn(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                .allSatisfy(t -> assertThat(t.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR));
    }

    @Test
    void aTryThatWaitsForAConnectionSlotSaysSo() throws Exception {
        java.util.concurrent.ConcurrentLinkedQueue<io.netty.channel.ChannelHandlerContext> held =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (TestBackend backend = TestBackend.start((req, ctx) -> {
            if (req.uri().endsWith("/hold")) {
                held.add(ctx);
            } else {
                ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "ok"));
            }
        })) {
            portico.start(ProxyConfig.parse("""
                    listen: 127.0.0.1:0
                    workers: 1
                    upstreams:
                      app: {servers: ['%s'], max_connections: 1, max_pending: 5}
                    routes: {/api: app}
                    tracing: {otlp: {endpoint: '%s'}}
                    """.formatted(backend.url(), collector.endpoint()), "test.yaml"));
            var endpoint = dev.portico.testing.Upstreams.of(portico.proxy(), "app").endpoints().get(0);

            var holder = CLIENT.sendAsync(HttpRequest.newBuilder(portico.uri("/api/hold")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1);
            var waiter = CLIENT.sendAsync(HttpRequest.newBuilder(portico.uri("/api/wait")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.waiting() == 1);
            held.poll().writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "held"));

            assertThat(holder.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(waiter.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            List<Span> spans = awaitSpans(4);
            Span waited = spans.stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER
                    && "/api/wait".equals(attr(s, "url.path"))).findFirst().orElseThrow();
            assertThat(spans).filteredOn(s -> s.getParentSpanId().equals(waited.getSpanId())).singleElement()
                    .satisfies(t -> assertThat(t.getEventsList()).extracting(Span.Event::getName)
                            .containsSubsequence("pool.wait", "connection.acquired"));
        }
    }

    @Test
    void aCollectorThatIsDownSlowsNoRequestAndItsSpansAreCountedAsDropped() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (TestBackend backend = TestBackend.echo()) {
            start("otlp: {endpoint: 'http://127.0.0.1:%d', timeout: 1s}".formatted(deadPort), backend.url());

            long started = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                assertThat(get("/api/" + i).statusCode()).isEqualTo(200);
            }
            long perRequestMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) / 50;

            assertThat(perRequestMillis).as("no request waits for the exporter").isLessThan(200);
            await().atMost(Duration.ofSeconds(45)).until(() -> dropped() >= 100); // 50 server + 50 try spans
        }
    }

    private double dropped() throws Exception {
        for (String line : admin("/metrics", "text/plain").split("\n")) {
            if (line.startsWith("portico_tracing_spans_dropped_total ")) {
                return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
            }
        }
        return -1;
    }
}
