package dev.portico.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** dist/Containerfile and dist/portico.yaml: a non-root image whose health check asks /readyz, and what it runs. */
class ContainerfileTest {
    private static final Path CONTAINERFILE = Path.of("dist", "Containerfile");

    @Test
    void runsAsANonRootUserOnASlimJre() throws Exception {
        String c = Files.readString(CONTAINERFILE);

        assertThat(c).contains("FROM docker.io/library/eclipse-temurin:17-jre\n", "USER portico", "HEALTHCHECK",
                "/readyz", "STOPSIGNAL SIGTERM");
        assertThat(c.indexOf("USER portico")).isLessThan(c.indexOf("ENTRYPOINT"));
    }

    @Test
    @Timeout(60)
    void theHealthCheckPassesAgainstAReadyProxyAndFailsWithoutOne() throws Exception {
        List<String> command = healthCheck();
        ProxyConfig config = ProxyConfig.load(Path.of("dist", "portico.yaml"));
        ProxyConfig local = ProxyConfig.builder().listen("127.0.0.1:0").route("/", "http://127.0.0.1:8000")
                .operations(o -> o.adminListen("127.0.0.1:0")).build();
        assertThat(config.operations().adminListen().toString()).isEqualTo("127.0.0.1:9901");
        int port;
        try (ProxyServer proxy = new ProxyServer(local).start()) {
            port = proxy.adminAddress().getPort();
            assertThat(run(command, port)).as("health check against a ready proxy").isZero();
        }
        assertThat(run(command, port)).as("health check with nothing listening").isNotZero();
    }

    /** The HEALTHCHECK's exec form, as the container runtime would run it. */
    private static List<String> healthCheck() throws Exception {
        Matcher m = Pattern.compile("CMD \\[\"bash\", \"-c\", \"(.*)\"\\]\n").matcher(Files.readString(CONTAINERFILE));
        assertThat(m.find()).as("HEALTHCHECK CMD [\"bash\", \"-c\", ...]").isTrue();
        return List.of("bash", "-c", m.group(1).replace("\\\\", "\\"));
    }

    private static int run(List<String> command, int adminPort) throws Exception {
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
        b.environment().put("PORTICO_ADMIN_PORT", String.valueOf(adminPort));
        Process p = b.start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
