package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP working group's caching conformance suite (http-cache-tests, run by the harness in
 * {@code shared/cachetests} beside the project) against the packaged jar with the {@code cache} policy's defaults:
 * the required ({@code --strict}: every required test that did not pass counts as failed) and optimal counts must
 * not fall below what Portico reached. Skipped when the harness or node and npm are missing.
 */
class CacheConformanceIT {
    /** Reached on a 2-core machine, node 20: see README (nginx 95, Varnish 108 of 165 required). */
    private static final int REQUIRED = 160;
    private static final int OPTIMAL = 85;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void httpCacheTestsPassAtLeastWhatPorticoReached() throws Exception {
        Path harness = harness();
        assumeTrue(harness != null, "no shared/cachetests/run.sh beside the project (CACHETESTS_DIR unset): skipped");
        assumeTrue(onPath("node") && onPath("npm"), "node and npm are not installed (apt-get install nodejs npm): "
                + "the caching conformance suite is skipped");
        Path out = Path.of("target", "cachetests").toAbsolutePath();
        Files.createDirectories(out);
        harness = copy(harness, out.resolve("harness")); // run from a copy: the shared harness stays untouched
        Path results = out.resolve("portico.json");
        Files.deleteIfExists(results);
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder("bash", harness.resolve("run.sh").toString(), "portico")
                .redirectErrorStream(true).redirectOutput(out.resolve("run.log").toFile());
        pb.environment().put("PORTICO_CMD", java + " -jar " + PorticoProcess.jar().toAbsolutePath());
        pb.environment().put("OUT", results.toString());
        pb.environment().put("SUITE_TIMEOUT", "400");
        Process p = pb.start();
        try {
            assertThat(p.waitFor(9, TimeUnit.MINUTES)).as("the harness finished").isTrue();
        } finally {
            p.destroy(); // the harness stops what it started by process group on TERM
        }
        assertThat(p.exitValue()).as("harness exit status; see " + out.resolve("run.log")).isZero();

        Process s = new ProcessBuilder("python3", harness.resolve("summarize.py").toString(), "--strict",
                results.toString()).redirectErrorStream(true).start();
        String summary = new String(s.getInputStream().readAllBytes());
        assertThat(s.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Files.writeString(out.resolve("summary.txt"), summary);
        Matcher strict = Pattern.compile("(?m)^(\\d+) passed, (\\d+) failed\\s*$").matcher(summary);
        Matcher optimal = Pattern.compile("optimal: (\\d+) passed of").matcher(summary);
        assertThat(strict.find() && optimal.find()).as("summary: " + summary).isTrue();
        assertThat(Integer.parseInt(strict.group(1))).as("required tests passed (strict)").isGreaterThanOrEqualTo(
                REQUIRED);
        assertThat(Integer.parseInt(optimal.group(1))).as("optimal tests passed").isGreaterThanOrEqualTo(OPTIMAL);
    }

    private static Path harness() {
        String dir = System.getenv("CACHETESTS_DIR");
        if (dir != null && Files.isRegularFile(Path.of(dir, "run.sh"))) {
            return Path.of(dir);
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("shared").resolve("cachetests");
            if (Files.isRegularFile(candidate.resolve("run.sh"))) {
                return candidate;
            }
        }
        return null;
    }

    /** Copies the harness (without its node_modules, which the run installs) into {@code target}. */
    private static Path copy(Path from, Path to) throws java.io.IOException {
        try (var files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path rel = from.relativize(f);
                if (rel.startsWith("node_modules")) {
                    continue;
                }
                Path dest = to.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(f, dest, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    dest.toFile().setWritable(true, true);
                    dest.toFile().setExecutable(Files.isExecutable(f), false);
                }
            }
        }
        return to;
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
