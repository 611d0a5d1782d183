package dev.portico.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.GrpcBackend;
import dev.portico.testing.PorticoExtension;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * npm's {@code grpc-web} client runtime (run by Node, with xhr2 as its XMLHttpRequest: no browser) calling
 * grpc-java's server through Portico, in both of its formats. Skipped without node and npm, or when its two
 * packages cannot be installed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class GrpcWebNpmClientTest {
    private static final Path SOURCE = Path.of("src/test/js/grpc-web-client");

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private GrpcBackend backend;

    @AfterEach
    void stop() throws InterruptedException {
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void theNpmClientCallsThroughPorticoInTextAndBinaryFormat() throws Exception {
        Path client = installedClient();
        backend = GrpcBackend.plaintext();
        UpstreamConfig up = UpstreamConfig.builder("grpc").servers("http://127.0.0.1:" + backend.port())
                .protocol(UpstreamConfig.Protocol.H2C).build();
        portico.start(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                .route("/grpc.testing.SimpleService", r -> r.upstream(up).grpcWeb(true)).build());
        String url = "http://127.0.0.1:" + portico.port();
        for (String format : new String[] {"text", "binary"}) {
            String ok = node(client, url, format, "from node");
            assertThat(ok).as(format).contains("{\"message\":\"hello from node\"}").contains("\"status\":0");
            String failed = node(client, url, format, "fail:7:not yours");
            assertThat(failed).as(format).contains("{\"code\":7,\"message\":\"not yours\"}");
        }
        String unrouted = node(client, "http://127.0.0.1:" + portico.port() + "/nowhere", "text", "x");
        assertThat(unrouted).contains("\"code\":12");
    }

    /** @return the client's directory under target, with its packages installed; skips the test if that fails */
    private static Path installedClient() throws IOException, InterruptedException {
        assumeTrue(onPath("node") && onPath("npm"), "node and npm are not installed (apt-get install nodejs npm)");
        Path dir = Path.of("target", "grpc-web-client").toAbsolutePath();
        Files.createDirectories(dir);
        for (String f : new String[] {"package.json", "package-lock.json", "client.js"}) {
            Files.copy(SOURCE.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(dir.resolve("node_modules").resolve("grpc-web"))) {
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("npm.log").toFile()).start();
            boolean done = npm.waitFor(3, TimeUnit.MINUTES);
            if (!done) {
                npm.destroyForcibly();
            }
            assumeTrue(done && npm.exitValue() == 0, "npm ci failed, see " + dir.resolve("npm.log"));
        }
        return dir.resolve("client.js");
    }

    private static String node(Path client, String url, String format, String message) throws Exception {
        Process p = new ProcessBuilder("node", client.toString(), url, format, message).redirectErrorStream(true)
                .start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            return out;
        } finally {
            p.destroyForcibly(); // by its own handle: only the process this test started
        }
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
