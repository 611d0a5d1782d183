package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The hosts file is read again when it changes: a name added after start resolves on reload. */
@Timeout(60)
class HostsFileReloadTest {
    private static final String PROPERTY = "portico.dns.hostsFile";
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
        System.clearProperty(PROPERTY);
    }

    @Test
    void aNameAddedToTheHostsFileAfterStartResolvesOnReload() throws Exception {
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 localhost\n");
        System.setProperty(PROPERTY, hosts.toString());
        Path file = dir.resolve("portico.yaml");
        String head = "listen: 127.0.0.1:0\nworkers: 1\nroutes:\n  /a: \"" + backend.url() + "\"\n";
        Files.writeString(file, head);
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();

        Files.writeString(hosts, "127.0.0.1 localhost\n127.0.0.1 added-later.portico.test\n");
        Files.writeString(file, head + "  /b: \"http://added-later.portico.test:" + backend.port() + "\"\n");
        ReloadResult r = proxy.reload().get(20, TimeUnit.SECONDS);

        assertThat(r.problems()).isEmpty();
        assertThat(r.applied()).isTrue();
        try (RawClient c = new RawClient(proxy.port())) {
            c.send("GET /b/x HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().body()).isEqualTo("GET /b/x\n");
        }
    }
}
