package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.testing.TestBackend;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/portico} puts the jars of a {@code plugins/} directory beside the configuration on the classpath. */
@Timeout(60)
class PluginIT {
    private static final String CLASS = "dev/portico/policy/CustomPolicyTest$Stamp.class";

    @Test
    void aPolicyClassFromAPluginJarRunsOnItsRoute(@TempDir Path dir) throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (OutputStream file = Files.newOutputStream(plugins.resolve("stamp.jar"));
             JarOutputStream jar = new JarOutputStream(file)) {
            jar.putNextEntry(new JarEntry(CLASS));
            jar.write(Files.readAllBytes(Path.of("target/test-classes").resolve(CLASS)));
            jar.closeEntry();
        }
        try (TestBackend backend = TestBackend.echo()) {
            Path config = dir.resolve("portico.yaml");
            Files.writeString(config, "listen: 127.0.0.1:0\nroutes:\n  - path: /\n    upstream: " + backend.url()
                    + "\n    policies:\n      - class: dev.portico.policy.CustomPolicyTest$Stamp\n"
                    + "        settings: {value: from-plugin}\n");
            try (PorticoProcess p = PorticoProcess.startScript("--config", config.toString())) {
                int port = p.awaitPort();
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/x")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("x-stamped")).hasValue("from-plugin");
                assertThat(backend.take().headers().get("X-Stamp")).isEqualTo("from-plugin");
            }
        }
    }
}
