package dev.portico.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.H2Backend;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The HTTP/2 transport to backends: trailers, flow control, GOAWAY, REFUSED_STREAM, stream limits, PING and
 * cancels, against a Netty HTTP/2 backend.
 */
@Timeout(90)
class H2UpstreamTransportTest {
    private static final long MIB = 1024 * 1024;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final HttpClient http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private void start(H2Backend backend, UnaryOperator<UpstreamConfig.Builder> more) {
        UpstreamConfig up = more.apply(UpstreamConfig.builder("h2").servers(backend.url("http"))
                .protocol(UpstreamConfig.Protocol.H2C)).build();
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .timeouts(t -> t.connect(Duration.ofSeconds(2)))
                .route("/", r -> r.upstream(up)).build());
    }

    private CompletableFuture<HttpResponse<String>> sendAsync(String method, String path) {
        return http1.sendAsync(HttpRequest.newBuilder(portico.uri(path))
                .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("body")
                        : HttpRequest.BodyPublishers.noBody()).build(), BodyHandlers.ofString());
    }

    @Test
    void responseTrailersReachAnHttp2ClientAsTrailers() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            try (H2Client client = H2Client.connect(portico.port())) {
                H2Client.Result r = client.get("/trailers").get(10, TimeUnit.SECONDS);
                assertThat(r.bodyStart()).isEqualTo("with trailers\n");
                assertThat(r.trailers().get("grpc-status")).isEqualTo("0");
                assertThat(r.trailers().get("x-custom")).isEqualTo("yes");
                assertThat(r.headers().contains("grpc-status")).isFalse();
            }
        }
    }

    @Test
    void responseTrailersReachAnHttp11ClientAsChunkedTrailers() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            String wire = rawExchange("GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n");
            assertThat(wire).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
            String afterLastChunk = wire.substring(wire.indexOf("\r\n0\r\n") + 5);
            assertThat(afterLastChunk).containsIgnoringCase("grpc-status: 0").containsIgnoringCase("x-custom: yes");
        }
    }

    @Test
    void requestTrailersOfAChunkedHttp11RequestReachTheBackend() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            String wire = rawExchange("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n");
            assertThat(wire).startsWith("HTTP/1.1 200");
            H2Backend.Received seen = backend.take();
            assertThat(seen.bodyBytes()).isEqualTo(5);
            assertThat(seen.trailers().get("x-checksum")).isEqualTo("abc");
        }
    }

    private String rawExchange(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", portico.port())) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void aClientThatStopsReadingStallsTheBackendStream() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            long size = 256 * MIB;
            try (Socket s = new Socket("127.0.0.1", portico.port())) {
                s.setReceiveBufferSize(64 * 1024);
                s.getOutputStream().write(("GET /stream?bytes=" + size + " HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(30)).until(() -> {
                    long before = backend.written();
                    Thread.sleep(300);
                    return backend.written() == before;
                });
                // Socket buffers, one stream window and Portico's write buffer: a few MiB, not the 256 MiB body.
                assertThat(backend.written()).isLessThan(32 * MIB);
                long read = drain(s.getInputStream(), size);
                assertThat(read).isGreaterThan(size);
            }
        }
    }

    @Test
    void largeUploadsFromBothClientProtocolsReachTheBackendWhole() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            byte[] body = new byte[32 * 1024 * 1024];
            HttpResponse<String> r = http1.send(HttpRequest.newBuilder(portico.uri("/up1"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("POST /up1 " + body.length + "\n");
            try (H2Client client = H2Client.connect(portico.port())) {
                H2Client.Result h2 = client.send(io.netty.handler.codec.http.HttpMethod.POST, "/up2", 32 * MIB,
                        false).get(60, TimeUnit.SECONDS);
                assertThat(h2.bodyStart()).isEqualTo("POST /up2 " + 32 * MIB + "\n");
            }
        }
    }

    /** Reads until {@code body} bytes beyond the head arrived; returns all bytes read. */
    private static long drain(InputStream in, long body) throws Exception {
        byte[] buf = new byte[256 * 1024];
        long total = 0;
        int n;
        while (total < body && (n = in.read(buf)) > 0) {
            total += n;
        }
        while (total < body + 60 && (n = in.read(buf)) > 0) {
            total += n; // the head
        }
        return total;
    }

    @Test
    void aGracefulGoAwayDrainsTheConnectionWithoutLosingARequest() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                first.add(sendAsync("GET", "/hold"));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == 5);
            backend.goAway(-1);
            List<CompletableFuture<HttpResponse<String>>> second = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                second.add(sendAsync("GET", "/after"));
            }
            for (var f : second) {
                assertThat(f.get(10, TimeUnit.SECONDS).body()).isEqualTo("GET /after 0\n");
            }
            backend.releaseHeld();
            for (var f : first) {
                assertThat(f.get(10, TimeUnit.SECONDS).body()).isEqualTo("held\n");
            }
            assertThat(backend.accepted()).isEqualTo(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.open() == 1); // the drained one closed
        }
    }

    @Test
    void goAwaysUnderLoadLoseNoRequest() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            // Each GOAWAY goes to every connection the backend has, a new one's too: a try may be refused twice.
            start(backend, u -> u.http2(h -> h.connectionsPerEndpoint(2)).retry(r -> r.attempts(3)));
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                calls.add(sendAsync("GET", "/load" + i));
                if (i == 100 || i == 200) {
                    int seen = i / 2;
                    await().atMost(Duration.ofSeconds(10)).until(() -> backend.receivedCount() >= seen);
                    backend.goAway(-1); // while streams are in flight and more are being opened
                }
            }
            for (int i = 0; i < calls.size(); i++) {
                HttpResponse<String> r = calls.get(i).get(30, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
                assertThat(r.body()).isEqualTo("GET /load" + i + " 0\n");
            }
            assertThat(backend.accepted()).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void streamsAboveTheLastStreamIdOfAGoAwayAreSentAgainEvenWhenNotIdempotent() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                calls.add(sendAsync("POST", "/hold"));
                int n = i + 1;
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == n); // streams 1, 3, 5, 7
            }
            backend.goAway(3); // streams 5 and 7 were not processed
            // The backend forgets streams 5 and 7 (it sent the GOAWAY); Portico sends them again on a new connection.
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.accepted() == 2 && backend.held() == 4);
            backend.releaseHeld();
            for (var f : calls) {
                HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("held\n");
            }
        }
    }

    @Test
    void aRefusedStreamIsRetriedOnTheSameConnection() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            backend.refuseNext(1);
            HttpResponse<String> r = sendAsync("POST", "/refused").get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("POST /refused 4\n");
            assertThat(backend.accepted()).isEqualTo(1);
        }
    }

    @Test
    void maxStreamsPerConnectionBoundsConcurrentStreams() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u.maxConnections(1).maxPending(20)
                    .http2(h -> h.maxStreamsPerConnection(3)));
            assertAllHeldCallsEndWithAtMostConcurrent(backend, 3);
            assertThat(backend.accepted()).isEqualTo(1);
        }
    }

    @Test
    void theBackendsMaxConcurrentStreamsLowersTheLimit() throws Exception {
        try (H2Backend backend = H2Backend.h2c(2)) {
            start(backend, u -> u.maxConnections(1).maxPending(20));
            assertAllHeldCallsEndWithAtMostConcurrent(backend, 2);
            assertThat(backend.accepted()).isEqualTo(1);
        }
    }

    private void assertAllHeldCallsEndWithAtMostConcurrent(H2Backend backend, int limit) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            calls.add(sendAsync("GET", "/hold"));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == limit);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            backend.releaseHeld();
            return calls.stream().allMatch(CompletableFuture::isDone);
        });
        for (var f : calls) {
            assertThat(f.get().statusCode()).isEqualTo(200);
        }
        assertThat(backend.mostConcurrent()).isEqualTo(limit);
    }

    @Test
    void moreConnectionsOpenWhenTheStreamsOfOneAreTaken() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u.http2(h -> h.maxStreamsPerConnection(2)));
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                calls.add(sendAsync("GET", "/hold"));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == 6);
            assertThat(backend.accepted()).isEqualTo(3);
            backend.releaseHeld();
            for (var f : calls) {
                assertThat(f.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    void anUnansweredPingClosesTheConnectionAndTheNextRequestOpensANewOne() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u.http2(h -> h.pingInterval(Duration.ofMillis(200))));
            assertThat(sendAsync("GET", "/one").get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            backend.hangOpenConnections();
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.open() == 0);
            assertThat(sendAsync("GET", "/two").get(10, TimeUnit.SECONDS).body()).isEqualTo("GET /two 0\n");
            assertThat(backend.accepted()).isEqualTo(2);
        }
    }

    @Test
    void aClientThatGoesAwayResetsItsBackendStream() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            try (Socket s = new Socket("127.0.0.1", portico.port())) {
                s.getOutputStream().write("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == 1);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.cancelled() == 1);
            assertThat(backend.open()).isEqualTo(1); // the stream ended, not the connection
        }
    }

    @Test
    void anHttp2ClientsCancelResetsItsBackendStream() throws Exception {
        try (H2Backend backend = H2Backend.h2c()) {
            start(backend, u -> u);
            try (H2Client client = H2Client.connect(portico.port())) {
                client.get("/hold");
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == 1);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.cancelled() == 1);
        }
    }

}
