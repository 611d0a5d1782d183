package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.StalledBackend;
import dev.portico.testing.StreamBackend;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 with prior knowledge on an h2c listener, forwarded as HTTP/1.1 with the same rules and streaming. */
@Timeout(120)
class Http2ForwardingTest {
    private static final long MIB = 1024 * 1024;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    /** Waits until {@code count} stops moving: held back by flow control somewhere between client and backend. */
    private static void awaitStill(LongSupplier count) {
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(20)).until(() -> {
            long before = count.getAsLong();
            Thread.sleep(300);
            return count.getAsLong() == before;
        });
    }

    private void startH2c(Consumer<ProxyConfig.Builder> more) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1);
        more.accept(b);
        portico.start(b.build());
    }

    @Test
    void forwardsAStreamAsHttp11WithTheUsualHeaderRules() throws Exception {
        try (TestBackend backend = TestBackend.echo(); H2Client client = H2Client.connect(startAndPort(backend))) {
            H2Client.Result r = client.get("/p/q?x=1").get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyStart()).isEqualTo("GET /p/q?x=1\n");
            assertThat(r.headers().get("via")).isEqualTo("1.1 portico");
            TestBackend.Received seen = backend.take();
            assertThat(seen.headers().get("host")).isEqualTo("127.0.0.1");
            assertThat(seen.headers().get("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(seen.headers().get("x-forwarded-host")).isEqualTo("127.0.0.1");
            assertThat(seen.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http2"));
        }
    }

    private int startAndPort(TestBackend backend) {
        startH2c(b -> b.route("/", backend.url()));
        return portico.port();
    }

    @Test
    void anHttp11ClientStillWorksOnAnH2cListener() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            startH2c(b -> b.route("/", backend.url()));
            assertThat(portico.get("/plain").body()).startsWith("GET /plain");
        }
    }

    @Test
    void streamsTwentyMebibytesUpAndDown() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            startH2c(b -> b.route("/", backend.url()));
            try (H2Client client = H2Client.connect(portico.port())) {
                H2Client.Result up = client.send(HttpMethod.POST, "/count", 20 * MIB, false)
                        .get(60, TimeUnit.SECONDS);
                assertThat(up.status()).isEqualTo(200);
                assertThat(up.bodyStart()).isEqualTo(Long.toString(20 * MIB));

                H2Client.Result down = client.get("/stream?bytes=" + 20 * MIB).get(60, TimeUnit.SECONDS);
                assertThat(down.status()).isEqualTo(200);
                assertThat(down.bodyBytes()).isEqualTo(20 * MIB);
            }
        }
    }

    @Test
    void aStreamThatIsNotReadHoldsBackItsBackend() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            startH2c(b -> b.route("/", backend.url()));
            try (H2Client client = H2Client.connect(portico.port())) {
                CompletableFuture<H2Client.Result> slow = client.send(HttpMethod.GET, "/stream?bytes=" + 48 * MIB,
                        -1, true);
                awaitStill(backend::written);
                assertThat(backend.written()).isLessThan(16 * MIB); // socket buffers and one stream window

                // Another stream on the same connection is not held up by the stalled one.
                assertThat(client.get("/stream?bytes=1000").get(10, TimeUnit.SECONDS).bodyBytes()).isEqualTo(1000);

                client.resume();
                assertThat(slow.get(60, TimeUnit.SECONDS).bodyBytes()).isEqualTo(48 * MIB);
            }
        }
    }

    @Test
    void aBackendThatDoesNotReadHoldsBackTheUploadingStreamOnly() throws Exception {
        try (StreamBackend backend = new StreamBackend(); StalledBackend stalled = new StalledBackend()) {
            startH2c(b -> b.route("/stalled", stalled.url()).route("/", backend.url()));
            try (H2Client client = H2Client.connect(portico.port())) {
                client.send(HttpMethod.POST, "/stalled", 256 * MIB, false);
                awaitStill(client::uploaded);
                assertThat(client.uploaded()).isLessThan(32 * MIB);

                // The connection's other streams still move, uploads included.
                H2Client.Result other = client.send(HttpMethod.POST, "/count", MIB, false).get(20, TimeUnit.SECONDS);
                assertThat(other.bodyStart()).isEqualTo(Long.toString(MIB));
            }
        }
    }

    @Test
    void aStreamHeldBackByItsBackendEndsWhenTheConnectionCloses() throws Exception {
        try (StalledBackend stalled = new StalledBackend(); AccessLogCapture log = new AccessLogCapture()) {
            startH2c(b -> b.route("/stalled", stalled.url()));
            H2Client client = H2Client.connect(portico.port());
            client.send(HttpMethod.POST, "/stalled", 256 * MIB, false);
            // The backend reads no more: the stream stops reading, with the client's DATA queued on it.
            awaitStill(client::uploaded);

            client.close();

            // Netty would leave such a stream open when its connection goes: it is closed with it, its exchange
            // ends (the access-log line), and its queued frames are released (the class's leak check).
            await().atMost(Duration.ofSeconds(10)).until(() -> log.find("POST /stalled") != null);
        }
    }

    @Test
    void aClientThatLeavesWithADownloadUnreadEndsItsExchange() throws Exception {
        try (StreamBackend backend = new StreamBackend(); AccessLogCapture log = new AccessLogCapture()) {
            startH2c(b -> b.route("/", backend.url()));
            H2Client client = H2Client.connect(portico.port());
            client.send(HttpMethod.GET, "/stream?bytes=" + 48 * MIB, -1, true);
            // The client reads nothing: the response stops at its stream window, the rest held back at the backend.
            awaitStill(backend::written);

            client.close();

            // The exchange ends when the client goes (its access-log line), and nothing it had received is left
            // unreleased on either side (the class's leak check).
            await().atMost(Duration.ofSeconds(10)).until(() -> log.find("GET /stream") != null);
        }
    }

    @Test
    void completesAHundredConcurrentStreams() throws Exception {
        try (TestBackend backend = TestBackend.echo()) {
            startH2c(b -> b.route("/", backend.url()));
            try (H2Client client = H2Client.connect(portico.port())) {
                List<CompletableFuture<H2Client.Result>> all = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    all.add(client.get("/n/" + i));
                }
                for (int i = 0; i < 100; i++) {
                    H2Client.Result r = all.get(i).get(20, TimeUnit.SECONDS);
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.bodyStart()).isEqualTo("GET /n/" + i + "\n");
                }
            }
        }
    }

    @Test
    void curlWithPriorKnowledgeUploadsAndDownloads(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed at /usr/bin/curl");
        try (StreamBackend backend = new StreamBackend()) {
            startH2c(b -> b.route("/", backend.url()));
            Path upload = dir.resolve("up.bin");
            Files.write(upload, new byte[(int) (20 * MIB)]);
            String base = "http://127.0.0.1:" + portico.port();

            String up = curl("--data-binary", "@" + upload, base + "/count");
            assertThat(up).isEqualTo(20 * MIB + " 2 200");
            String down = curl("-o", "/dev/null", "-w", "%{size_download} %{http_version} %{http_code}",
                    base + "/stream?bytes=" + 20 * MIB);
            assertThat(down).isEqualTo(20 * MIB + " 2 200");
        }
    }

    private static String curl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/curl", "-sS", "--http2-prior-knowledge",
                "--max-time", "60"));
        cmd.addAll(List.of(args));
        if (!cmd.contains("-w")) {
            cmd.add(cmd.size() - 1, "-w");
            cmd.add(cmd.size() - 1, " %{http_version} %{http_code}");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(70, TimeUnit.SECONDS)).isTrue();
        return out.trim();
    }
}
