package dev.portico.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.TimeoutsConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** dist/portico.service: what systemd says of it, and the hardening and stop timeout it promises. */
class ServiceUnitTest {
    private static final Path UNIT = Path.of("dist", "portico.service");
    private static final String LAUNCHER = "/usr/share/portico/bin/portico";

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void systemdAnalyzeVerifiesTheUnitWithoutAWord() throws Exception {
        File analyze = new File("/usr/bin/systemd-analyze");
        Assumptions.assumeTrue(analyze.canExecute(), "no systemd-analyze here: the unit file is not verified");
        // verify checks that the commands exist; the launcher is installed by the package, so a stand-in takes
        // its place and every other line is verified as shipped.
        Path launcher = dir.resolve("portico");
        Files.writeString(launcher, "#!/bin/sh\n");
        assertThat(launcher.toFile().setExecutable(true)).isTrue();
        Path unit = dir.resolve("portico.service");
        Files.writeString(unit, Files.readString(UNIT).replace(LAUNCHER, launcher.toString()));

        Process p = new ProcessBuilder(analyze.getPath(), "verify", "--man=no", unit.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(50, TimeUnit.SECONDS)).isTrue();

        assertThat(output).as("systemd-analyze verify output").isEmpty();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void isHardenedAndWaitsLongerThanADrainToStop() throws Exception {
        String unit = Files.readString(UNIT);

        assertThat(unit).contains("User=portico", "NoNewPrivileges=yes", "ProtectSystem=strict",
                "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM", "ExecStart=" + LAUNCHER);
        Matcher m = Pattern.compile("(?m)^TimeoutStopSec=(\\d+)s$").matcher(unit);
        assertThat(m.find()).as("TimeoutStopSec in seconds").isTrue();
        Duration stop = Duration.ofSeconds(Long.parseLong(m.group(1)));
        TimeoutsConfig t = TimeoutsConfig.DEFAULTS;
        assertThat(stop).isGreaterThan(t.drain().plus(t.drainDelay()).plusSeconds(5));
    }
}
