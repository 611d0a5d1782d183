package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The fields a client may not forge for its backend, and the strict edges of what Portico forwards. */
@Timeout(30)
class ForwardedFieldsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private TestBackend backend;

    @AfterEach
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    private TestBackend.Received forward(String head) throws Exception {
        backend = TestBackend.echo();
        portico.start(b -> b.route("/", backend.url()));
        try (RawClient c = portico.raw()) {
            assertThat(c.send(head).read().status()).isEqualTo(200);
        }
        return backend.take();
    }

    @Test
    void aClientNamingXForwardedForInConnectionLeavesPorticosEntryAlone() throws Exception {
        TestBackend.Received got = forward("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For, Via\r\n"
                + "X-Forwarded-For: 10.9.9.9\r\nVia: 1.0 spoofed\r\n\r\n");

        assertThat(got.headers().getAll("X-Forwarded-For")).containsExactly("127.0.0.1");
        assertThat(got.headers().getAll("Via")).containsExactly("1.1 portico");
    }

    @Test
    void forwardedGetsPorticosHopAndSingleValuedFieldsCannotBeForged() throws Exception {
        TestBackend.Received got = forward("GET / HTTP/1.1\r\nHost: front.example:8080\r\n"
                + "Forwarded: for=6.6.6.6;proto=https\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-Port: 443\r\n"
                + "X-Forwarded-Prefix: /evil\r\nX-Forwarded-Proto: https\r\n\r\n");

        assertThat(got.headers().getAll("Forwarded"))
                .containsExactly("for=6.6.6.6;proto=https, for=127.0.0.1;host=\"front.example:8080\";proto=http");
        assertThat(got.headers().getAll("X-Real-IP")).containsExactly("127.0.0.1");
        assertThat(got.headers().contains("X-Forwarded-Port")).isFalse();
        assertThat(got.headers().contains("X-Forwarded-Prefix")).isFalse();
        assertThat(got.headers().getAll("X-Forwarded-Proto")).containsExactly("http");
    }

    @Test
    void fieldNamesWithUnderscoresAreDropped() throws Exception {
        TestBackend.Received got = forward("POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n"
                + "X_Forwarded_For: 6.6.6.6\r\nContent-Length: 5\r\nX-Kept: k\r\n\r\nhello");

        assertThat(got.headers().names()).noneMatch(n -> n.contains("_"));
        assertThat(got.headers().get("X-Kept")).isEqualTo("k");
        assertThat(got.body()).isEqualTo("hello");
    }

    @Test
    void contentLengthWithLeadingZerosIsForwardedInItsCanonicalForm() throws Exception {
        TestBackend.Received got = forward("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 010\r\n\r\n0123456789");

        assertThat(got.headers().getAll("Content-Length")).containsExactly("10");
        assertThat(got.body()).isEqualTo("0123456789");
    }

    @Test
    void maxMethodLengthRefusesLongerMethodsWith501() throws Exception {
        backend = TestBackend.echo();
        portico.start(b -> b.limits(new LimitsConfig(8192, 65536, 0, 100, 100, 100).withMaxMethodLength(8)).route("/", backend.url()));

        try (RawClient c = portico.raw()) {
            assertThat(c.send("PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(c.send("VERSION-CONTROL / HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(501);
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(backend.take().method()).isEqualTo("PROPFIND");
        assertThat(backend.pending()).isZero();
    }

    @Test
    void maxHeaderSizeCountsTheHeaderSectionAsSentWithItsLineEndings() throws Exception {
        backend = TestBackend.echo();
        portico.start(b -> b.limits(new LimitsConfig(8192, 256, 0)).route("/", backend.url()));
        String fields = "Host: a\r\n" + "X-F: 1234567\r\n".repeat(17); // 9 + 17 * 14 = 247, 249 with the last CRLF
        String over = fields + "X-G: 1234\r\n"; // 260 with the last CRLF, 220 without any line ending

        try (RawClient c = portico.raw()) {
            assertThat(c.send("GET /fits HTTP/1.1\r\n" + fields + "\r\n").read().status()).isEqualTo(200);
            assertThat(c.send("GET /over HTTP/1.1\r\n" + over + "\r\n").read().status()).isEqualTo(431);
        }
        assertThat(backend.take().uri()).isEqualTo("/fits");
    }
}
