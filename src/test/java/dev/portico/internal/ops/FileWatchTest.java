package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** reload.watch applies only whole, valid, changed files, and is not held up by other files' writes. */
@Timeout(60)
class FileWatchTest {
    private final TestBackend backend = TestBackend.echo();
    private ProxyServer proxy;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
    }

    private String config(String... paths) {
        StringBuilder yaml = new StringBuilder("listen: 127.0.0.1:0\nworkers: 1\nadmin: {listen: 127.0.0.1:0}\n"
                + "reload: {watch: true}\nroutes:\n");
        for (String p : paths) {
            yaml.append("  ").append(p).append(": \"").append(backend.url()).append("\"\n");
        }
        return yaml.toString();
    }

    private Path start(String yaml) throws IOException {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, yaml);
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        return file;
    }

    private int status(String path) throws IOException {
        try (RawClient c = new RawClient(proxy.port())) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
            return c.read().status();
        }
    }

    private double reloads(String outcome) throws Exception {
        return Math.max(0, new Admin(proxy.adminAddress()).metrics().value("portico_reloads_total", "outcome",
                outcome));
    }

    @Test
    void aHalfWrittenFileIsNotAppliedAndTheWholeOneIs() throws Exception {
        Path file = start(config("/a", "/b"));
        String whole = config("/a", "/b", "/c");
        String half = whole.substring(0, whole.indexOf("  /b")); // valid YAML: only /a

        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING)) {
            w.write(half);
            w.flush();
            // A slow writer: the first half sits in the file for a while.
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(3)).until(() -> status("/b") == 200);
            w.write(whole.substring(half.length()));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> status("/c") == 200);
        assertThat(status("/b")).isEqualTo(200);
        assertThat(reloads("success")).isEqualTo(1.0);
    }

    @Test
    void anEditIsAppliedWhileAnotherFileInTheDirectoryIsWrittenOften() throws Exception {
        Path file = start(config("/a"));
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread neighbour = new Thread(() -> {
            // Two logs written in turn: inotify would fold repeated events of one file into one.
            try (Writer access = Files.newBufferedWriter(dir.resolve("access.log"));
                 Writer error = Files.newBufferedWriter(dir.resolve("error.log"))) {
                while (writing.get()) {
                    access.write("127.0.0.1 - - \"GET / HTTP/1.1\" 200 2\n");
                    access.flush();
                    error.write("a line\n");
                    error.flush();
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "busy-neighbour");
        neighbour.start();
        try {
            Files.writeString(file, config("/a", "/b"));

            await().atMost(Duration.ofSeconds(5)).until(() -> status("/b") == 200);
        } finally {
            writing.set(false);
            neighbour.join(5000);
        }
    }

    @Test
    void aChangeMadeWhileStartingIsAppliedAndASameContentRewriteChangesNothing() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, config("/a"));
        ProxyConfig loaded = ProxyConfig.load(file);
        Files.writeString(file, config("/a", "/b")); // after the read, before the watch
        proxy = new ProxyServer(loaded, file).start();

        await().atMost(Duration.ofSeconds(10)).until(() -> status("/b") == 200);

        Files.writeString(file, config("/a", "/b"));
        file.toFile().setLastModified(System.currentTimeMillis() + 5000);
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                .until(() -> reloads("success") == 1.0 && reloads("failure") == 0.0);
    }
}
