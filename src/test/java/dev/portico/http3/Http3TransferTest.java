package dev.portico.http3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.testing.H3Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.StalledBackend;
import dev.portico.testing.StreamBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Large HTTP/3 bodies both ways, streamed under flow control, and what a side that stops reading costs. */
@Timeout(180)
class Http3TransferTest {
    private static final long HUNDRED_MIB = 100L << 20;
    /** What may sit between the two ends when one stops reading: socket buffers, flow-control windows, a chunk. */
    private static final long BOUND = 16L << 20;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    private H3Client client() throws Exception {
        return new H3Client(portico.port(), Http3Fixture.ca().certificate(), "localhost");
    }

    @Test
    void a100MibDownloadArrivesWhole() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                long start = System.nanoTime();
                H3Client.Response r = h3.send("GET", "/stream?bytes=" + HUNDRED_MIB, Map.of(), -1, null, false, null)
                        .get(150, TimeUnit.SECONDS);
                report("download", start);

                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyBytes()).isEqualTo(HUNDRED_MIB);
            }
        }
    }

    @Test
    void a100MibUploadIsStreamedToTheBackend() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                long start = System.nanoTime();
                H3Client.Response r = h3.send("POST", "/upload", Map.of(), HUNDRED_MIB,
                        Unpooled.directBuffer(64 << 10).writeZero(64 << 10), true, null).get(150, TimeUnit.SECONDS);
                report("upload", start);

                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo(Long.toString(HUNDRED_MIB));
                assertThat(backend.received()).isEqualTo(HUNDRED_MIB);
            }
        }
    }

    @Test
    void aClientThatStopsReadingStopsTheBackendWithinABound() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                CompletableFuture<QuicStreamChannel> stream = new CompletableFuture<>();
                CompletableFuture<H3Client.Response> response = h3.send("GET", "/stream?bytes=" + HUNDRED_MIB,
                        Map.of(), -1, null, false, stream);
                QuicStreamChannel s = stream.get(10, TimeUnit.SECONDS);
                s.eventLoop().submit(() -> s.config().setAutoRead(false)).get();

                // The backend writes until Portico stops reading it, then stays there.
                AtomicLong last = new AtomicLong(-1);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                        .until(() -> last.getAndSet(backend.written()) == backend.written());
                assertThat(backend.written()).isLessThan(BOUND);
                System.out.printf("HTTP/3 client stopped reading: the backend stopped after %d bytes%n",
                        backend.written());

                s.eventLoop().submit(() -> s.config().setAutoRead(true)).get();
                assertThat(response.get(150, TimeUnit.SECONDS).bodyBytes()).isEqualTo(HUNDRED_MIB);
            }
        }
    }

    @Test
    void aBackendThatStopsReadingStopsTheUploadWithinABound() throws Exception {
        try (StalledBackend backend = new StalledBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()));
            try (H3Client h3 = client()) {
                CompletableFuture<QuicStreamChannel> stream = new CompletableFuture<>();
                h3.send("POST", "/upload", Map.of(), HUNDRED_MIB,
                        Unpooled.directBuffer(64 << 10).writeZero(64 << 10), false, stream);
                QuicStreamChannel s = stream.get(10, TimeUnit.SECONDS);

                // The client's stream stops being writable (QUIC flow control) and what it sent stays bounded.
                AtomicLong last = new AtomicLong(-1);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                        .until(() -> last.getAndSet(sent(s)) == sent(s) && !s.isWritable());
                assertThat(sent(s)).isLessThan(BOUND);
                System.out.printf("HTTP/3 backend stopped reading: the client stopped after %d bytes%n", sent(s));
            }
        }
    }

    /** Prints the transfer's rate, for the record (the assertions are on the bytes, not the time). */
    private static void report(String what, long startNanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        System.out.printf("HTTP/3 %s of 100 MiB through Portico: %d ms, %.1f MiB/s%n", what, ms, 100_000.0 / ms);
    }

    /** @return the bytes the client's stream has handed to QUIC so far */
    private static long sent(QuicStreamChannel s) throws Exception {
        return s.parent().collectStats().get(5, TimeUnit.SECONDS).sentBytes();
    }
}
