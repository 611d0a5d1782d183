package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A backend that stops reading an upload: the exchange ends with 504, wherever the body's end is held up. */
@Timeout(60)
class UploadStallTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void aBackendThatStopsReadingAnUploadGets504WhereverTheBodyStops() throws Exception {
        CountDownLatch testOver = new CountDownLatch(1);
        try (RawBackend readsHeadOnly = RawBackend.start(conn -> {
            if (conn.readHead() != null) {
                try {
                    testOver.await(); // the body is never read, and the connection stays open
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        })) {
            portico.start(ProxyConfig.parse("""
                    listen: 127.0.0.1:0
                    workers: 1
                    timeouts: {connect: 1s, idle: 1s, response: 1s, drain: 1s}
                    routes: {/: %s}
                    """.formatted(readsHeadOnly.url()), "test.yaml"));
            // Uploads of many sizes at once: some fit in the socket buffers (the request is out, the response
            // timeout runs), some keep the client from sending it all, and some end with the whole body read
            // from the client but its end still queued in Portico: each must end with 504.
            List<Integer> sizes = new ArrayList<>();
            for (int kib = 1024; kib <= 6 * 1024; kib += 96) {
                sizes.add(kib * 1024);
            }
            ExecutorService threads = Executors.newCachedThreadPool();
            try {
                List<Future<Integer>> statuses = new ArrayList<>();
                for (int size : sizes) {
                    statuses.add(threads.submit(() -> upload(threads, size)));
                }
                for (int i = 0; i < sizes.size(); i++) {
                    assertThat(statuses.get(i).get(20, TimeUnit.SECONDS)).as("upload of " + sizes.get(i) + " bytes")
                            .isIn(504, 0);
                }
            } finally {
                testOver.countDown();
                threads.shutdownNow();
            }
        }
    }

    private int upload(ExecutorService threads, int size) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
            s.setSoTimeout(10_000);
            threads.execute(() -> {
                try {
                    s.getOutputStream().write(("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + size
                            + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().write(new byte[size]);
                } catch (IOException ignored) {
                    // Portico answered and closed before taking it all
                }
            });
            try {
                return new RawClient(s).read().status();
            } catch (SocketException reset) {
                // Portico closed while the client was still sending: the kernel may reset the connection before
                // the 504 is read. An answer all the same; a hang is a read timeout.
                return 0;
            }
        }
    }
}
