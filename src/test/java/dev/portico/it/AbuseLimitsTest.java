package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The limits that keep one client from exhausting the proxy (slow clients are in BadRequestTest). */
@Timeout(30)
class AbuseLimitsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private TestBackend backend;

    @BeforeEach
    void startBackend() {
        backend = TestBackend.echo();
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    @Test
    void respondsWith431ToTooManyHeaderFields() throws Exception {
        portico.start(b -> b.limits(new LimitsConfig(8192, 65536, 0, 5, 100, 100)).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(431);
            assertThat(c.closedByPeer()).isTrue();
        }
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(backend.take().uri()).isEqualTo("/");
        assertThat(backend.pending()).isZero();
    }

    @Test
    void closesConnectionsOverTheListenerLimit() throws Exception {
        portico.start(b -> b.limits(new LimitsConfig(8192, 65536, 0, 100, 2, 100)).route("/", backend.url()));
        try (RawClient first = portico.raw(); RawClient second = portico.raw()) {
            first.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
            second.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(first.read().status()).isEqualTo(200);
            assertThat(second.read().status()).isEqualTo(200);

            try (RawClient third = portico.raw()) {
                assertThat(third.closedByPeer()).as("third connection closed on accept").isTrue();
            }
        }
        // Once the others are gone, there is room again.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() -> {
            try (RawClient again = portico.raw()) {
                again.send("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(again.read().status()).isEqualTo(200);
            }
        });
    }

    @Test
    void closesTheConnectionAfterTheLastAllowedRequest() throws Exception {
        portico.start(b -> b.limits(new LimitsConfig(8192, 65536, 0, 100, 100, 2)).route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response first = c.read();
            c.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response second = c.read();

            assertThat(first.header("Connection")).isNull();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByPeer()).isTrue();
        }
    }
}
