package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.CompressPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.Decoding;
import dev.portico.testing.H2Fetch;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TextBody;
import dev.portico.testing.TextStreamBackend;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Large compressed responses stream part by part under backpressure, whatever the client's protocol and pace. */
@Timeout(120)
class CompressStreamingTest {
    private static final int MIB = 1024 * 1024;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TextStreamBackend backend = new TextStreamBackend();

    @BeforeEach
    void start() {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(backend.url()).policies(CompressPolicyConfig.defaults())).build());
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"gzip", "br", "zstd"})
    void twentyMebibytesStreamedByTheBackendArriveIntact(String encoding) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(portico.uri("/text?bytes=" + 20 * MIB
                + "&seed=5")).header("Accept-Encoding", encoding).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofInputStream());

        assertThat(r.headers().firstValue("content-encoding")).contains(encoding);
        try (InputStream decoded = Decoding.stream(encoding, r.body())) {
            assertThat(sameAsText(decoded, 5, 20 * MIB)).isEqualTo(20L * MIB);
        }
    }

    @Test
    void aLargeBodyReachesAnHttp2ClientIntact() throws Exception {
        try (H2Fetch h2 = new H2Fetch(portico.port())) {
            H2Fetch.Result r = h2.send(HttpMethod.GET, "/text?bytes=" + 8 * MIB + "&seed=6", "accept-encoding", "br")
                    .get(60, TimeUnit.SECONDS);

            assertThat(r.wire().get("content-encoding")).hasToString("br");
            assertThat(Decoding.decode("br", r.body())).isEqualTo(TextBody.of(6, 8 * MIB));
        }
    }

    @Test
    void aClientThatDoesNotReadHoldsBackTheBackendWhileEncoding() throws Exception {
        long size = 256L * MIB;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
            s.setReceiveBufferSize(64 * 1024);
            s.getOutputStream().write(("GET /text?bytes=" + size + "&seed=7 HTTP/1.1\r\nHost: a\r\n"
                    + "Accept-Encoding: gzip\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

            // Without reading: the backend starts, then must stall once the buffers on the way are full.
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.written() > MIB);
            await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(30)).until(() -> {
                long before = backend.written();
                Thread.sleep(300);
                return backend.written() == before;
            });
            long stalledAt = backend.written();
            System.out.printf("backend stalled after %.1f MiB of a %d MiB body%n", stalledAt / (double) MIB,
                    size / MIB);
            assertThat(stalledAt).isLessThan(64L * MIB);

            // Reading again resumes the stream: the first 8 MiB decode to the backend's text.
            InputStream in = s.getInputStream();
            skipHead(in);
            try (InputStream decoded = Decoding.stream("gzip", new ChunkedInputStream(in))) {
                assertThat(sameAsText(decoded, 7, 8 * MIB)).isEqualTo(8L * MIB);
            }
        }
    }

    /** @return how many bytes of {@code in} (up to {@code n}) matched text {@code seed}; fails on the first mismatch */
    private static long sameAsText(InputStream in, long seed, int n) throws IOException {
        TextBody text = new TextBody(seed);
        byte[] buf = new byte[64 * 1024];
        long matched = 0;
        while (matched < n) {
            int want = (int) Math.min(buf.length, n - matched);
            int got = in.readNBytes(buf, 0, want);
            if (got == 0) {
                break;
            }
            assertThat(Arrays.copyOf(buf, got)).as("bytes from %d", matched).isEqualTo(text.next(got));
            matched += got;
        }
        return matched;
    }

    private static void skipHead(InputStream in) throws IOException {
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("no response head");
            }
            state = (c == '\r' && state % 2 == 0) || (c == '\n' && state % 2 == 1) ? state + 1 : 0;
        }
    }

    /** The body of a chunked HTTP/1.1 response, read as it comes. */
    private static final class ChunkedInputStream extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        ChunkedInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String line = line();
                if (line.isEmpty()) {
                    line = line(); // the CRLF after the previous chunk
                }
                left = Long.parseLong(line.split(";")[0].trim(), 16);
                if (left == 0) {
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("truncated chunk");
            }
            left -= n;
            return n;
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    sb.append((char) c);
                }
            }
            return sb.toString();
        }
    }
}
