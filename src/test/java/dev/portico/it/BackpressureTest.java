package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.StreamBackend;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Bodies stream under backpressure: what the proxy holds is bounded whatever the body size. */
@Timeout(60)
class BackpressureTest {
    private static final long MIB = 1024 * 1024;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void aClientThatDoesNotReadHoldsBackTheBackend() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            portico.start(b -> b.route("/", backend.url()));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                s.setReceiveBufferSize(64 * 1024);
                s.getOutputStream().write(("GET /stream?bytes=" + 512 * MIB + " HTTP/1.1\r\nHost: a\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));

                // Without reading: the backend must stall once the socket buffers on the way are full.
                await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10)).until(() -> {
                    long before = backend.written();
                    Thread.sleep(300);
                    return backend.written() == before;
                });
                long stalledAt = backend.written();
                assertThat(stalledAt).isLessThan(64 * MIB);

                long read = drain(s.getInputStream(), 512 * MIB);
                assertThat(read).isGreaterThanOrEqualTo(512 * MIB);
            }
        }
    }

    @Test
    void disconnectsAClientThatStopsReadingForLongerThanTheIdleTimeout() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5),
                    Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(1))).route("/", backend.url()));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                s.setReceiveBufferSize(64 * 1024);
                s.getOutputStream().write(("GET /stream?bytes=" + 256 * MIB + " HTTP/1.1\r\nHost: a\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(2000); // stalled reader, well past timeouts.idle

                long read = drain(s.getInputStream(), 256 * MIB);

                assertThat(read).isLessThan(256 * MIB);
            }
        }
    }

    @Test
    void streamsALargeUploadWithoutBufferingIt() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            portico.start(b -> b.route("/", backend.url()));
            long size = 256 * MIB;
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + size + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] block = new byte[256 * 1024];
                for (long sent = 0; sent < size; sent += block.length) {
                    out.write(block);
                }
                out.flush();
                s.setSoTimeout(10_000);
                RawClient.Response response = new RawClient(s).read();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.body()).isEqualTo(Long.toString(size));
            }
            assertThat(backend.received()).isEqualTo(size);
        }
    }

    @Test
    void streamsBothWaysWhenTheBackendAnswersBeforeTheBodyEnds() throws Exception {
        try (StreamBackend backend = new StreamBackend()) {
            portico.start(b -> b.route("/", backend.url()));
            long size = 16 * MIB;
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                s.setSoTimeout(10_000);
                java.util.concurrent.CompletableFuture<Long> reading = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            try {
                                return drain(s.getInputStream(), Long.MAX_VALUE);
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        });
                OutputStream out = s.getOutputStream();
                out.write(("POST /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: " + size
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] block = new byte[64 * 1024];
                for (long sent = 0; sent < size; sent += block.length) {
                    out.write(block);
                }
                out.flush();

                long read = reading.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(read).as("response head and the whole echoed body").isGreaterThan(size);
            }
            assertThat(backend.received()).isEqualTo(size);
        }
    }

    /** Reads until EOF or {@code max} bytes, whichever is first; a reset counts as EOF. */
    private static long drain(InputStream in, long max) {
        byte[] buf = new byte[256 * 1024];
        long total = 0;
        try {
            int n;
            while (total < max && (n = in.read(buf)) >= 0) {
                total += n;
            }
        } catch (java.io.IOException reset) {
            // the proxy closed the connection
        }
        return total;
    }
}
