package dev.portico.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.config.UpstreamTlsConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** https:// upstreams: verified against a CA, by name, pooled, with a client certificate where asked. */
@Timeout(30)
class UpstreamTlsTest {
    private static Issued ca;
    private static Issued backendCert;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;
    private TestBackend backend;

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca("Backend CA");
        backendCert = TestCertificates.server(ca, "backend.test", "127.0.0.1");
    }

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
    }

    private TestBackend httpsBackend(ClientAuth auth, Issued clientCa, AtomicReference<String> seenClient)
            throws Exception {
        SslContextBuilder b = SslContextBuilder.forServer(backendCert.key(), backendCert.chain())
                .sslProvider(SslProvider.JDK);
        if (clientCa != null) {
            b.trustManager(clientCa.certificate()).clientAuth(auth);
        }
        SslContext ctx = b.build();
        return TestBackend.startTls(ctx, (req, c) -> {
            io.netty.handler.ssl.SslHandler ssl = c.pipeline().get(io.netty.handler.ssl.SslHandler.class);
            try {
                seenClient.set(((java.security.cert.X509Certificate) ssl.engine().getSession()
                        .getPeerCertificates()[0]).getSubjectX500Principal().getName());
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                seenClient.set("none");
            }
            c.writeAndFlush(TestBackend.text(io.netty.handler.codec.http.HttpResponseStatus.OK,
                    "secure " + req.uri()));
        });
    }

    private void route(String url, UpstreamTlsConfig tls) {
        portico.start(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                .route(new RouteConfig("/", "", UpstreamUrl.parse(url), false, RouteConfig.INHERIT, tls)).build());
    }

    @Test
    void reachesAnHttpsBackendVerifiedByItsCaAndReusesThePooledConnection() throws Exception {
        backend = httpsBackend(ClientAuth.NONE, null, new AtomicReference<>());
        Path caFile = ca.write(dir, "ca").certificate();
        route("https://127.0.0.1:" + backend.port(), new UpstreamTlsConfig(caFile, "backend.test", null, null, false));

        try (RawClient c = portico.raw()) {
            for (int i = 0; i < 3; i++) {
                c.send("GET /x" + i + " HTTP/1.1\r\nHost: front.test\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("secure /x" + i);
            }
        }
        assertThat(backend.take().headers().get("Host")).isEqualTo("front.test");
        assertThat(backend.connections()).isEqualTo(1);
    }

    @Test
    void verifiesTheUrlHostByDefault() throws Exception {
        backend = httpsBackend(ClientAuth.NONE, null, new AtomicReference<>());
        Path caFile = ca.write(dir, "ca").certificate();
        // The certificate holds the IP 127.0.0.1 as a name, so the URL's host verifies without server_name.
        route("https://127.0.0.1:" + backend.port(), new UpstreamTlsConfig(caFile, null, null, null, false));

        assertThat(portico.get("/ok").statusCode()).isEqualTo(200);
    }

    @Test
    void refusesABackendWhoseCertificateHasAnotherNameWith502() throws Exception {
        backend = httpsBackend(ClientAuth.NONE, null, new AtomicReference<>());
        Path caFile = ca.write(dir, "ca").certificate();
        route("https://127.0.0.1:" + backend.port(), new UpstreamTlsConfig(caFile, "other.test", null, null, false));

        assertThat(portico.get("/").statusCode()).isEqualTo(502);
        assertThat(backend.pending()).isZero();
    }

    @Test
    void refusesABackendSignedByAnUnknownCaWith502() throws Exception {
        backend = httpsBackend(ClientAuth.NONE, null, new AtomicReference<>());
        // no ca: the JDK trust store, which does not know the test CA
        route("https://127.0.0.1:" + backend.port(), UpstreamTlsConfig.DEFAULTS);

        assertThat(portico.get("/").statusCode()).isEqualTo(502);
        assertThat(backend.pending()).isZero();
    }

    @Test
    void answers504WhenTheBackendNeverFinishesTheHandshake() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            TimeoutsConfig t = TimeoutsConfig.DEFAULTS;
            portico.start(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .timeouts(new TimeoutsConfig(Duration.ofMillis(300), t.response(), t.idle(), t.requestHeader(),
                            t.drain()))
                    .route("/", "https://127.0.0.1:" + silent.getLocalPort()).build());

            assertThat(portico.get("/").statusCode()).isEqualTo(504);
        }
    }

    @Test
    void insecureSkipVerifyAcceptsAnyCertificate() throws Exception {
        backend = httpsBackend(ClientAuth.NONE, null, new AtomicReference<>());
        route("https://127.0.0.1:" + backend.port(), new UpstreamTlsConfig(null, "other.test", null, null, true));

        assertThat(portico.get("/").statusCode()).isEqualTo(200);
    }

    @Test
    void presentsAClientCertificateToABackendThatRequiresOne() throws Exception {
        Issued clientCa = TestCertificates.ca("Proxy CA");
        Issued proxyCert = TestCertificates.client(clientCa, "portico");
        AtomicReference<String> seen = new AtomicReference<>();
        backend = httpsBackend(ClientAuth.REQUIRE, clientCa, seen);
        Path caFile = ca.write(dir, "ca").certificate();
        Pem mine = proxyCert.write(dir, "proxy", TestCertificates.KeyFormat.TRADITIONAL);
        route("https://127.0.0.1:" + backend.port(),
                new UpstreamTlsConfig(caFile, "backend.test", mine.certificate(), mine.key(), false));

        assertThat(portico.get("/").statusCode()).isEqualTo(200);
        assertThat(seen.get()).isEqualTo("CN=portico");
    }

    @Test
    void keepsConnectionsMadeWithDifferentTlsSettingsApart() throws Exception {
        backend = httpsBackend(ClientAuth.NONE, null, new AtomicReference<>());
        Path caFile = ca.write(dir, "ca").certificate();
        portico.start(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                .route(new RouteConfig("/a", "", UpstreamUrl.parse("https://127.0.0.1:" + backend.port()), false,
                        RouteConfig.INHERIT, new UpstreamTlsConfig(caFile, "backend.test", null, null, false)))
                .route(new RouteConfig("/b", "", UpstreamUrl.parse("https://127.0.0.1:" + backend.port()), false,
                        RouteConfig.INHERIT, new UpstreamTlsConfig(null, "other.test", null, null, true)))
                .build());

        assertThat(portico.get("/a").statusCode()).isEqualTo(200);
        assertThat(portico.get("/b").statusCode()).isEqualTo(200);
        assertThat(portico.get("/a").statusCode()).isEqualTo(200);
        assertThat(portico.get("/b").statusCode()).isEqualTo(200);
        // one pooled connection per TLS identity, each reused
        assertThat(backend.connections()).isEqualTo(2);
    }
}
