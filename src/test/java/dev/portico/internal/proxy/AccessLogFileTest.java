package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.AccessLogConfig.Format;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class AccessLogFileTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void aWriterThatCannotKeepUpDropsAndCountsWithoutBlockingTheCaller() throws Exception {
        // A FIFO nobody reads: the writer thread blocks opening it, as it would on a stalled disk.
        Path fifo = dir.resolve("stalled");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(mkfifo.exitValue()).isZero();
        AccessLogFile file = new AccessLogFile(fifo.toString());
        int extra = 100;
        AccessLogEntry e = new AccessLogEntry(0, "127.0.0.1", "GET", "/", "HTTP/1.1", 200, 1, 0, null, -1, "id",
                null, 1, null, null, null, null);

        long t0 = System.nanoTime();
        for (int i = 0; i < AccessLogFile.CAPACITY + extra; i++) {
            file.offer(e, Format.COMBINED);
        }
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(file.dropped()).isEqualTo(extra);
        assertThat(tookMillis).as("offering never waits for the writer").isLessThan(2000);
        // Unblock the writer: it writes every queued line, then ends on close.
        CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(fifo),
                    StandardCharsets.UTF_8))) {
                return r.lines().count();
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        });
        file.close();
        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(AccessLogFile.CAPACITY);
    }
}
