package dev.portico.internal.trace;

import static dev.portico.internal.trace.OtlpReceiver.attr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamTlsConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A try on a new TLS connection to an https:// backend: its span has the connect and the handshake as events. */
@Timeout(60)
class TracingTlsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    @Test
    void aNewTlsConnectionsTryHasConnectThenHandshakeEvents() throws Exception {
        Issued ca = TestCertificates.ca("Backend CA");
        Issued cert = TestCertificates.server(ca, "backend.test", "127.0.0.1");
        try (OtlpReceiver collector = new OtlpReceiver();
             TestBackend backend = TestBackend.startTls(SslContextBuilder.forServer(cert.key(), cert.chain())
                     .sslProvider(SslProvider.JDK).build(),
                     (req, ctx) -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "secure")))) {
            Path caFile = ca.write(dir, "ca").certificate();
            portico.start(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .route(new RouteConfig("/", "", UpstreamUrl.parse("https://127.0.0.1:" + backend.port()), false,
                            RouteConfig.INHERIT, new UpstreamTlsConfig(caFile, "backend.test", null, null, false)))
                    .operations(o -> o.tracing(t -> t.otlp(collector.endpoint())))
                    .build());

            assertThat(portico.get("/s").statusCode()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(20)).until(() -> collector.spans().size() >= 2);
            Span attempt = collector.spans().stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                    .findFirst().orElseThrow();
            assertThat(attempt.getEventsList()).extracting(Span.Event::getName)
                    .containsExactly("connect", "tls.handshake", "connection.acquired");
            assertThat(attempt.getEvents(0).getTimeUnixNano()).isLessThanOrEqualTo(attempt.getEvents(1)
                    .getTimeUnixNano());
            assertThat(attempt.getStartTimeUnixNano()).isLessThanOrEqualTo(attempt.getEvents(0).getTimeUnixNano());
            assertThat(attr(attempt, "portico.connection.reused")).isEqualTo("false");
            portico.proxy().stop(); // before the collector closes: the last spans go out on stop
        }
    }
}
