package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.testing.TestBackend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/portico}'s class-data-sharing archive, on a copy of the jar and launcher: the first server run records
 * the classes it loads, the next start writes a static archive from that list, later starts load the classes from
 * it (picocli's Java 5 class files too, which a dynamic archive would skip), and a newer jar starts it over.
 */
@Timeout(180)
class LauncherCdsIT {

    @Test
    void theFirstRunRecordsTheNextWritesTheArchiveAndLaterRunsLoadPicocliFromIt(@TempDir Path dir) throws Exception {
        Path launcher = Files.createDirectories(dir.resolve("bin")).resolve("portico");
        Files.copy(Path.of("bin/portico"), launcher);
        Path jar = Files.createDirectories(dir.resolve("target")).resolve("portico.jar");
        Files.copy(PorticoProcess.jar(), jar, StandardCopyOption.COPY_ATTRIBUTES);
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Path classList = dir.resolve("target/portico.classlist");
        Path archive = dir.resolve("target/portico.jsa");

        try (TestBackend backend = TestBackend.echo()) {
            Path config = dir.resolve("portico.yaml");
            Files.writeString(config, "listen: 127.0.0.1:0\nroutes:\n  - path: /\n    upstream: " + backend.url() + "\n");

            serve(launcher, config, Map.of(), true);
            assertThat(classList).isNotEmptyFile();
            assertThat(Files.readString(classList)).contains("picocli/CommandLine", "dev/portico/PorticoMain");
            assertThat(archive).doesNotExist();

            serve(launcher, config, Map.of(), false);
            assertThat(archive).isNotEmptyFile();

            Path classLog = dir.resolve("classes.log");
            serve(launcher, config, Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + classLog), false);
            String loaded = Files.readString(classLog);
            assertThat(sourceOf(loaded, "picocli.CommandLine")).hasValue("shared objects file");
            assertThat(sourceOf(loaded, "dev.portico.PorticoMain")).hasValue("shared objects file");
            assertThat(sourceOf(loaded, "io.netty.channel.epoll.EpollIoHandler")).hasValue("shared objects file");

            Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(5)));
            serve(launcher, config, Map.of(), false);
            assertThat(archive).as("an archive older than the jar is dropped").doesNotExist();
            assertThat(classList).as("and the classes recorded again").isNotEmptyFile();
        }
    }

    /** Starts the launcher, waits until it listens, sends a request if asked to, and stops it with SIGTERM. */
    private static void serve(Path launcher, Path config, Map<String, String> extra, boolean request)
            throws IOException, InterruptedException {
        Map<String, String> env = new HashMap<>(extra);
        env.put("JAVA_HOME", System.getProperty("java.home"));
        try (PorticoProcess p = PorticoProcess.startLauncher(launcher, env, "--config", config.toString())) {
            int port = p.awaitPort();
            if (request) {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/x")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
            }
            p.terminate();
            assertThat(p.awaitExit(Duration.ofSeconds(30))).as("exit code; stderr:%n%s", p.stderr()).isZero();
        }
    }

    /** @return where the class-load log says the class came from ("shared objects file", "jar:file:..."). */
    private static Optional<String> sourceOf(String log, String className) {
        return log.lines().filter(l -> l.contains(" " + className + " source: "))
                .map(l -> l.substring(l.indexOf(" source: ") + 9).trim()).findFirst();
    }
}
