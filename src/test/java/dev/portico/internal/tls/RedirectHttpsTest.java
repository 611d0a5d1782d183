package dev.portico.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A redirect_https listener answers every request with a 308 to the same URL over https. */
@Timeout(30)
class RedirectHttpsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void answers308WithTheHttpsUrlOnTheTlsListenersPortAndKeepsTheConnection() throws Exception {
        Issued ca = TestCertificates.ca("Test CA");
        Pem pem = TestCertificates.server(ca, "www.example.test").write(dir, "www");
        portico.start(ProxyConfig.builder()
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0), null, true))
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                        ListenerTlsConfig.of(pem.certificate(), pem.key()), false))
                .route("/", backend.url()).workers(1).build());
        int plain = portico.proxy().addresses().get(0).getPort();
        int tls = portico.proxy().addresses().get(1).getPort();

        try (RawClient c = new RawClient(plain)) {
            c.send("GET /a/b?c=d&e HTTP/1.1\r\nHost: www.example.test:" + plain + "\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.header("Location")).isEqualTo("https://www.example.test:" + tls + "/a/b?c=d&e");

            c.send("POST /form HTTP/1.1\r\nHost: [::1]\r\nContent-Length: 0\r\n\r\n");
            r = c.read();
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.header("Location")).isEqualTo("https://[::1]:" + tls + "/form");
        }
        assertThat(backend.pending()).isZero();

        // and the TLS listener serves the redirected request
        try (javax.net.ssl.SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), tls, "www.example.test")) {
            assertThat(TlsClient.get(s, "www.example.test", "/a/b?c=d&e").status()).isEqualTo(200);
        }
    }

    @Test
    void redirectsToTheDefaultPortWhenThereIsNoTlsListener() throws Exception {
        portico.start(ProxyConfig.builder()
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0), null, true))
                .route("/", backend.url()).workers(1).build());

        try (RawClient c = portico.raw()) {
            c.send("GET http://example.test/x HTTP/1.1\r\nHost: example.test\r\n\r\n");
            assertThat(c.read().header("Location")).isEqualTo("https://example.test/x");
            c.send("GET / HTTP/1.0\r\n\r\n");
            assertThat(c.read().header("Location")).isEqualTo("https://127.0.0.1/");
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
            RawClient c = new RawClient(s);
            s.setSoTimeout(5000);
            c.send("PUT /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\nhello");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(308);
            assertThat(r.header("Connection")).isEqualTo("close"); // a body was sent: the connection closes
        }
        assertThat(backend.pending()).isZero();
    }
}
