package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.OperationsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Request ids and W3C trace context from the client through Portico to the backend and back. */
class CorrelationTest {
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private static final String HEX32 = "[0-9a-f]{32}";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    private RawClient.Response get(String extraHeaders) throws Exception {
        try (RawClient c = portico.raw()) {
            c.send("GET /api/x HTTP/1.1\r\nHost: t\r\n" + extraHeaders + "\r\n");
            return c.read();
        }
    }

    @Test
    @Timeout(30)
    void generatesAnIdForTheBackendAndTheClientWhenTheClientSentNone() throws Exception {
        portico.start(b -> b.route("/api", backend.url()));

        RawClient.Response r = get("");

        String sent = backend.take().headers().get("X-Request-Id");
        assertThat(sent).matches(HEX32);
        assertThat(r.header("x-request-id")).isEqualTo(sent);
    }

    @Test
    @Timeout(30)
    void passesAWellFormedIdOnUnchanged() throws Exception {
        portico.start(b -> b.route("/api", backend.url()));

        RawClient.Response r = get("X-Request-Id: 123e4567-e89b-12d3-a456-426614174000\r\n");

        assertThat(backend.take().headers().getAll("X-Request-Id"))
                .containsExactly("123e4567-e89b-12d3-a456-426614174000");
        assertThat(r.header("x-request-id")).isEqualTo("123e4567-e89b-12d3-a456-426614174000");
    }

    @Test
    @Timeout(30)
    void replacesAMalformedTooLongOrRepeatedId() throws Exception {
        portico.start(b -> b.route("/api", backend.url()));

        for (String bad : new String[] {"X-Request-Id: has space\r\n", "X-Request-Id: q\"uote\r\n",
            "X-Request-Id: " + "a".repeat(129) + "\r\n", "X-Request-Id: one\r\nX-Request-Id: two\r\n"}) {
            RawClient.Response r = get(bad);

            java.util.List<String> sent = backend.take().headers().getAll("X-Request-Id");
            assertThat(sent).as(bad).singleElement().asString().matches(HEX32);
            assertThat(r.header("x-request-id")).isEqualTo(sent.get(0));
        }
    }

    @Test
    @Timeout(30)
    void usesTheConfiguredHeaderAndCanBeTurnedOff() throws Exception {
        portico.start(b -> b.route("/api", backend.url())
                .operations(new OperationsConfig(null, true, "X-Correlation-Id", false, false)));
        RawClient.Response r = get("X-Correlation-Id: abc.1\r\n");
        TestBackend.Received got = backend.take();
        assertThat(got.headers().get("X-Correlation-Id")).isEqualTo("abc.1");
        assertThat(got.headers().contains("X-Request-Id")).isFalse();
        assertThat(r.header("x-correlation-id")).isEqualTo("abc.1");

        portico.start(b -> b.route("/api", backend.url())
                .operations(new OperationsConfig(null, false, "X-Request-Id", false, false)));
        RawClient.Response off = get("");
        assertThat(backend.take().headers().contains("X-Request-Id")).isFalse();
        assertThat(off.header("x-request-id")).isNull();
    }

    @Test
    @Timeout(30)
    void errorResponsesCarryTheRequestIdToo() throws Exception {
        portico.start(b -> b.route("/api", backend.url()).route("/down", "http://127.0.0.1:1"));
        try (RawClient c = portico.raw()) {
            c.send("GET /nowhere HTTP/1.1\r\nHost: t\r\nX-Request-Id: lost-1\r\n\r\n");
            RawClient.Response notFound = c.read();
            assertThat(notFound.status()).isEqualTo(404);
            assertThat(notFound.header("x-request-id")).isEqualTo("lost-1");
            c.send("GET /down HTTP/1.1\r\nHost: t\r\nX-Request-Id: down-1\r\n\r\n");
            RawClient.Response badGateway = c.read();
            assertThat(badGateway.status()).isEqualTo(502);
            assertThat(badGateway.header("x-request-id")).isEqualTo("down-1");
        }
    }

    @Test
    @Timeout(30)
    void passesTraceContextThroughUntouched() throws Exception {
        portico.start(b -> b.route("/api", backend.url()).operations(new OperationsConfig(null, true,
                "X-Request-Id", true, false)));

        get("traceparent: " + TRACEPARENT + "\r\ntracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\r\n");

        TestBackend.Received got = backend.take();
        assertThat(got.headers().getAll("traceparent")).containsExactly(TRACEPARENT);
        assertThat(got.headers().getAll("tracestate")).containsExactly("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    }

    @Test
    @Timeout(30)
    void startsATraceOnlyWhenAskedTo() throws Exception {
        portico.start(b -> b.route("/api", backend.url()));
        get("");
        assertThat(backend.take().headers().contains("traceparent")).isFalse();

        portico.start(b -> b.route("/api", backend.url()).operations(new OperationsConfig(null, true,
                "X-Request-Id", true, false)));
        get("");
        get("");
        String first = backend.take().headers().get("traceparent");
        String second = backend.take().headers().get("traceparent");
        assertThat(first).matches("00-" + HEX32 + "-[0-9a-f]{16}-01");
        assertThat(second).matches("00-" + HEX32 + "-[0-9a-f]{16}-01").isNotEqualTo(first);
    }
}
