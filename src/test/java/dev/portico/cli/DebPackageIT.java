package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * dist/build-deb.sh: the Debian package holds the jar, the launcher, the unit and the configuration where the unit
 * expects them, and the launcher it installs starts Portico, which answers {@code /healthz}. The package is unpacked
 * into a directory (dpkg-deb -x), not installed, so the test changes nothing on the machine.
 */
class DebPackageIT {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void buildsAPackageWhoseLauncherStartsPortico() throws Exception {
        Assumptions.assumeTrue(new File("/usr/bin/dpkg-deb").canExecute(), "no dpkg-deb: the .deb is not built");
        Path jar = PorticoProcess.jar();
        String built = run(List.of("bash", "dist/build-deb.sh", jar.toString(), dir.toString())).strip();
        Path deb = Path.of(built.lines().reduce((a, b) -> b).orElseThrow());
        assertThat(deb).isRegularFile();

        String contents = run(List.of("dpkg-deb", "--contents", deb.toString()));
        assertThat(contents).contains("./usr/share/portico/portico.jar", "./usr/share/portico/bin/portico",
                "./etc/portico/portico.yaml", "./lib/systemd/system/portico.service");
        assertThat(run(List.of("dpkg-deb", "--field", deb.toString(), "Package", "Depends")))
                .contains("Package: portico", "openjdk-17-jre-headless");

        Path root = dir.resolve("root");
        run(List.of("dpkg-deb", "-x", deb.toString(), root.toString()));
        Path config = dir.resolve("portico.yaml");
        Files.writeString(config, "listen: 127.0.0.1:0\nworkers: 1\nadmin: {listen: 127.0.0.1:0}\n"
                + "routes: {/: \"http://127.0.0.1:9\"}\n");
        ProcessBuilder b = new ProcessBuilder("bash", root.resolve("usr/share/portico/bin/portico").toString(),
                "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.log").toFile());
        b.environment().put("PORTICO_JAR", root.resolve("usr/share/portico/portico.jar").toString());
        b.environment().put("PORTICO_CDS", "0");
        Process p = b.start();
        try {
            Pattern admin = Pattern.compile("admin endpoint at 127\\.0\\.0\\.1:(\\d+)");
            int[] port = new int[1];
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                Matcher m = admin.matcher(Files.readString(dir.resolve("out.log")));
                if (m.find()) {
                    port[0] = Integer.parseInt(m.group(1));
                }
                return port[0] > 0 || !p.isAlive();
            });
            assertThat(port[0]).as("the admin port; output:%n%s", Files.readString(dir.resolve("out.log")))
                    .isPositive();
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port[0] + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
        } finally {
            p.destroy(); // SIGTERM: a graceful stop
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        assertThat(p.exitValue()).isZero();
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s:%n%s", command, out).isZero();
        return out;
    }
}
