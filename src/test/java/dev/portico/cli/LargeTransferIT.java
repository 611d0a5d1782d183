package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies far larger than the proxy's heap stream through a proxy process started with {@code -Xmx64m}, with its
 * resident memory sampled from {@code /proc} throughout.
 */
class LargeTransferIT {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;
    private static final long RSS_LIMIT_KIB = 400 * 1024;
    /** The largest RSS seen by any test of this class, for the report. */
    private static final AtomicLong MAX_RSS_KIB_ALL = new AtomicLong();

    @TempDir
    Path dir;

    private StreamingBackend backend;
    private PorticoProcess proxy;
    private int port;
    private ScheduledExecutorService sampler;
    private final AtomicLong maxRssKiB = new AtomicLong();

    @BeforeEach
    void startProxyWithA64MiBHeap() throws Exception {
        backend = new StreamingBackend();
        Path config = Files.writeString(dir.resolve("large.yaml"), "listen: 127.0.0.1:0\n"
                + "routes:\n"
                + "  - {path: /upload, upstream: \"" + backend.url() + "\"}\n"
                + "  - {path: /download, upstream: \"" + backend.url() + "\"}\n"
                + "timeouts: {response: 30s, idle: 30s}\n"
                + "access_log: {enabled: false}\n");
        proxy = PorticoProcess.start(List.of("-Xmx64m"), "--config", config.toString());
        port = proxy.awaitPort();
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rss-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(() -> maxRssKiB.accumulateAndGet(proxy.rssKiB(), Math::max),
                0, 50, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void stopProxy() throws Exception {
        if (sampler != null) {
            sampler.shutdownNow();
        }
        MAX_RSS_KIB_ALL.accumulateAndGet(maxRssKiB.get(), Math::max);
        System.out.printf("LargeTransferIT: proxy max RSS %d MiB in this test, %d MiB in all so far%n",
                maxRssKiB.get() / 1024, MAX_RSS_KIB_ALL.get() / 1024);
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    @Timeout(60)
    void oneGibUploadWithContentLengthArrivesCompleteAndIntact() throws Exception {
        HttpURLConnection c = open("/upload");
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(GIB);

        String answer = upload(c, GIB);

        assertThat(answer).isEqualTo(GIB + " " + Long.toHexString(StreamingBackend.Pattern.crc(GIB)));
        assertProxyAliveWithBoundedMemory();
    }

    @Test
    @Timeout(60)
    void oneGibDownloadArrivesCompleteAndIntact() throws Exception {
        HttpURLConnection c = open("/download?bytes=" + GIB);
        CRC32 crc = new CRC32();
        long count = 0;

        assertThat(c.getResponseCode()).isEqualTo(200);
        assertThat(c.getContentLengthLong()).isEqualTo(GIB);
        try (InputStream in = c.getInputStream()) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                crc.update(buf, 0, n);
                count += n;
            }
        }

        assertThat(count).isEqualTo(GIB);
        assertThat(crc.getValue()).isEqualTo(StreamingBackend.Pattern.crc(GIB));
        assertProxyAliveWithBoundedMemory();
    }

    @Test
    @Timeout(60)
    void chunkedUploadOf256MibArrivesCompleteAndIntact() throws Exception {
        long size = 256 * MIB;
        HttpURLConnection c = open("/upload");
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setChunkedStreamingMode(32 * 1024);

        String answer = upload(c, size);

        assertThat(answer).isEqualTo(size + " " + Long.toHexString(StreamingBackend.Pattern.crc(size)));
        assertProxyAliveWithBoundedMemory();
    }

    private HttpURLConnection open(String pathAndQuery) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + pathAndQuery).toURL()
                .openConnection();
        c.setConnectTimeout(5_000);
        c.setReadTimeout(30_000);
        return c;
    }

    /** Streams {@code size} pattern bytes as the body and returns the backend's answer. */
    private static String upload(HttpURLConnection c, long size) throws IOException {
        c.setRequestProperty("Content-Type", "application/octet-stream");
        try (OutputStream out = c.getOutputStream()) {
            StreamingBackend.Pattern.write(out, size);
        }
        assertThat(c.getResponseCode()).isEqualTo(200);
        try (InputStream in = c.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void assertProxyAliveWithBoundedMemory() {
        maxRssKiB.accumulateAndGet(proxy.rssKiB(), Math::max);
        assertThat(proxy.isAlive()).as("proxy still running; stderr:%n%s", proxy.stderr()).isTrue();
        assertThat(maxRssKiB.get()).as("proxy max RSS in KiB").isPositive().isLessThan(RSS_LIMIT_KIB);
        assertThat(proxy.stderr()).doesNotContain("OutOfMemoryError", "LEAK");
    }
}
