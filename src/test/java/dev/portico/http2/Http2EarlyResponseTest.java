package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawH2;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A backend that answers before the request body ends: the client, still uploading and granting a small window,
 * gets the whole response, END_STREAM included, and only then RST_STREAM(NO_ERROR) (RFC 9113 section 8.1).
 */
@Timeout(30)
class Http2EarlyResponseTest {
    private static final int RESPONSE_BYTES = 300_000;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private RawBackend backend;

    @AfterEach
    void stop() throws Exception {
        if (backend != null) {
            backend.close();
        }
    }

    private void startEarlyAnswer() throws Exception {
        backend = RawBackend.start(conn -> {
            conn.readHead();
            byte[] body = new byte[RESPONSE_BYTES];
            Arrays.fill(body, (byte) 'x');
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + RESPONSE_BYTES + "\r\n\r\n");
            conn.write(body);
            while (conn.readBytes(8192).length > 0) {
                continue; // until Portico closes; the upload is read and dropped
            }
        });
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", backend.url()).build());
    }

    /**
     * Starts an upload of which 16 KiB is sent, then takes the response granting 32 KiB of connection window at a
     * time (the stream window is large), as a slow client would, until the stream ends or {@code stopAt} bytes came.
     */
    private static void uploadAndReadSlowly(RawH2 h2, long stopAt) throws Exception {
        Http2Headers post = new DefaultHttp2Headers(false).method("POST").scheme("http").path("/upload")
                .authority("127.0.0.1").set("content-length", "20000000");
        h2.headers(1, post, false);
        byte[] part = "u".repeat(16_384).getBytes(StandardCharsets.US_ASCII);
        h2.run(c -> h2.writer().writeData(c, 1, Unpooled.wrappedBuffer(part), 0, false, c.newPromise()));
        assertThat(h2.await(e -> e.startsWith("HEADERS 1"))).isEqualTo("HEADERS 1 200");
        long granted = 65_535;
        while (!ended(h2) && h2.dataBytes(1) < stopAt) {
            long window = granted;
            Awaitility.await().until(() -> h2.dataBytes(1) >= window || ended(h2));
            h2.run(c -> h2.writer().writeWindowUpdate(c, 0, 32_768, c.newPromise()));
            granted += 32_768;
        }
    }

    private static boolean ended(RawH2 h2) {
        return h2.seen("END 1") || h2.seen("RST 1 0");
    }

    @Test
    void aResponseSentBeforeTheUploadEndsIsDeliveredWholeBeforeTheReset() throws Exception {
        startEarlyAnswer();
        try (RawH2 h2 = new RawH2(portico.port()); AccessLogCapture log = new AccessLogCapture()) {
            uploadAndReadSlowly(h2, Long.MAX_VALUE);
            assertThat(h2.await(e -> e.equals("END 1") || e.startsWith("RST 1"))).isEqualTo("END 1");
            assertThat(h2.dataBytes(1)).isEqualTo(RESPONSE_BYTES);
            assertThat(h2.await(e -> e.startsWith("RST 1"))).isEqualTo("RST 1 0");
            Awaitility.await().until(() -> log.find("/upload") != null);
            assertThat(log.find("/upload")).contains("\" 200 " + RESPONSE_BYTES + " ");
        }
    }

    @Test
    void theAccessLogCountsOnlyTheBytesReallySentWhenTheClientCancels() throws Exception {
        startEarlyAnswer();
        try (RawH2 h2 = new RawH2(portico.port()); AccessLogCapture log = new AccessLogCapture()) {
            uploadAndReadSlowly(h2, 250_000);
            assertThat(h2.seen("END 1")).isFalse();
            h2.run(c -> h2.writer().writeRstStream(c, 1, Http2Error.CANCEL.code(), c.newPromise()));
            Awaitility.await().until(() -> log.find("/upload") != null);
            Matcher m = Pattern.compile("\" 200 (\\d+) ").matcher(log.find("/upload"));
            assertThat(m.find()).isTrue();
            assertThat(Long.parseLong(m.group(1))).isLessThan(RESPONSE_BYTES).isLessThanOrEqualTo(h2.dataBytes(1));
        }
    }
}
