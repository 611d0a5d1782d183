package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.ops.ReloadTest.ReloadResultAssert;
import dev.portico.testing.H2Client;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A reload that keeps, respells, reconfigures or moves listeners. */
@Timeout(60)
class ListenerReloadTest {
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

    private Path write(String listen) throws IOException {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: " + listen + "\nworkers: 1\nroutes:\n  /: \"" + backend.url() + "\"\n");
        return file;
    }

    private ReloadResult reload(String listen) throws Exception {
        write(listen);
        return proxy.reload().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aListenerRespelledOrWithOtherOptionsOnTheSamePortKeepsItsSocketAndTakesTheNewOptions() throws Exception {
        Path file = write("127.0.0.1:0");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        int port = proxy.port();

        // The same socket, now named by its port; then respelled, with h2c turned on.
        ReloadResultAssert.applied(reload("127.0.0.1:" + port));
        ReloadResultAssert.applied(reload("[{address: \"localhost:" + port + "\", h2c: true}]"));

        assertThat(proxy.addresses()).hasSize(1);
        assertThat(proxy.port()).isEqualTo(port);
        try (H2Client h2 = H2Client.connect(port)) {
            assertThat(h2.get("/h2").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
        }
        try (RawClient c = new RawClient(port)) {
            c.send("GET /h1 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertThat(c.read().body()).isEqualTo("GET /h1\n");
        }
    }

    @Test
    void redirectHttpsFollowsTheTlsListenerThatAReloadMoved() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("Test CA");
        TestCertificates.server(ca, "a.test").write(dir, "a");
        String tls = "tls: {certificate: a.pem, key: a.key}}";
        Path file = write("[{address: \"127.0.0.1:0\", redirect_https: true}, {address: \"127.0.0.1:0\", " + tls + "]");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        int plain = proxy.addresses().get(0).getPort();
        int before = proxy.addresses().get(1).getPort();
        assertThat(location(plain)).isEqualTo("https://a.test:" + before + "/x");

        ReloadResultAssert.applied(reload("[{address: \"127.0.0.1:0\", redirect_https: true}, "
                + "{address: \"localhost:0\", " + tls + "]"));

        int after = proxy.addresses().get(1).getPort();
        assertThat(after).isNotEqualTo(before);
        assertThat(proxy.addresses().get(0).getPort()).isEqualTo(plain);
        assertThat(location(plain)).isEqualTo("https://a.test:" + after + "/x");
    }

    private static String location(int port) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.send("GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(308);
            return r.header("Location");
        }
    }
}
