package dev.portico.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ListenerTlsConfig.ClientAuth;
import dev.portico.config.ProxyConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** TLS termination on a listener: SNI, versions, client certificates, the handshake deadline, what goes upstream. */
@Timeout(30)
class TlsListenerTest {
    private static Issued ca;
    private static Issued a;
    private static Issued b;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;
    private final TestBackend backend = TestBackend.echo();

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca("Test CA");
        a = TestCertificates.server(ca, "a.test", "www.a.test");
        b = TestCertificates.serverRsa(ca, "b.test", "*.b.test");
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    private ProxyConfig config(ListenerTlsConfig tls, TimeoutsConfig timeouts) {
        return ProxyConfig.builder().listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0), tls, false))
                .route("/", backend.url()).workers(1).timeouts(timeouts).build();
    }

    private ListenerTlsConfig twoCertificates(ClientAuth auth, Path clientCa) throws Exception {
        Pem pa = a.write(dir, "a", TestCertificates.KeyFormat.TRADITIONAL);
        Pem pb = b.write(dir, "b", TestCertificates.KeyFormat.TRADITIONAL);
        return new ListenerTlsConfig(List.of(new CertificateConfig(pa.certificate(), pa.key()),
                new CertificateConfig(pb.certificate(), pb.key())), ListenerTlsConfig.DEFAULT_PROTOCOLS,
                ListenerTlsConfig.DEFAULT_ALPN, auth, clientCa);
    }

    @Test
    void sniPicksTheCertificateForTheNameAndTheFirstIsTheDefault() throws Exception {
        portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));

        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "b.test")) {
            assertThat(TlsClient.serverName(s)).isEqualTo("b.test");
        }
        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "x.b.test")) {
            assertThat(TlsClient.serverName(s)).isEqualTo("b.test"); // *.b.test
        }
        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "www.a.test")) {
            assertThat(TlsClient.serverName(s)).isEqualTo("a.test");
        }
        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "unknown.test")) {
            assertThat(TlsClient.serverName(s)).isEqualTo("a.test");
        }
        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), null)) {
            assertThat(TlsClient.serverName(s)).isEqualTo("a.test");
        }
    }

    @Test
    void sniWithATrailingDotPicksTheCertificateOfTheNameWithoutIt() throws Exception {
        portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));

        // TLS 1.2 sends the Certificate message in the clear: which certificate came is plain to see.
        assertThat(servedFor(ClientHello.bytes(0x0303, "b.test"), b)).as("control").isTrue();
        assertThat(servedFor(ClientHello.bytes(0x0303, "b.test."), b)).isTrue();
        assertThat(servedFor(ClientHello.bytes(0x0303, "x.b.test."), b)).isTrue();
        assertThat(servedFor(ClientHello.bytes(0x0303, "unknown.test."), a)).isTrue();
    }

    /** @return whether the server answers the hello with {@code expected}'s certificate */
    private boolean servedFor(byte[] hello, Issued expected) throws Exception {
        byte[] der = expected.certificate().getEncoded();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(hello);
            InputStream in = s.getInputStream();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            int n;
            while (got.size() < 64 * 1024 && (n = in.read(buf)) > 0) {
                got.write(buf, 0, n);
                if (indexOf(got.toByteArray(), der) >= 0) {
                    return true;
                }
            }
            return false;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void proxiesOverTlsWithXForwardedProtoHttpsAndLogsVersionAndCipher() throws Exception {
        ListAppender<ILoggingEvent> log = capture("portico.access");
        try {
            portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));

            try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "a.test")) {
                RawClient.Response r = TlsClient.get(s, "a.test", "/hello?x=1");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).startsWith("GET /hello?x=1");
                // keep-alive: a second request on the same TLS connection
                assertThat(TlsClient.get(s, "a.test", "/again").status()).isEqualTo(200);
                String expectedTls = s.getSession().getProtocol() + " " + s.getSession().getCipherSuite();
                assertThat(backend.take().headers().get("X-Forwarded-Proto")).isEqualTo("https");
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> log.list.size() >= 2);
                assertThat(log.list.get(0).getFormattedMessage())
                        .matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /hello\\?x=1 HTTP/1\\.1\" 200 \\d+ \"-\" \"-\" \\S+ \\d+ "
                                + "127\\.0\\.0\\.1:\\d+ \\d+ "
                                + java.util.regex.Pattern.quote(expectedTls));
                assertThat(expectedTls).startsWith("TLSv1.3 ");
            }
        } finally {
            release(log, "portico.access");
        }
    }

    @Test
    void refusesTls11AndAcceptsTls12() throws Exception {
        portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));

        // A TLS 1.2 hello from the JDK client is served ...
        javax.net.ssl.SSLContext ctx = TestCertificates.trusting(ca);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                portico.port())) {
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            s.startHandshake();
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
        }
        // ... the same hello offering at most TLS 1.1 gets a fatal alert. (Written by hand: the JDK client itself
        // no longer offers TLS 1.1.)
        assertThat(alertFor(ClientHello.bytes(0x0303))).isEqualTo(-1); // control: a 1.2 hello gets a ServerHello
        assertThat(alertFor(ClientHello.bytes(0x0302))).isIn(ClientHello.PROTOCOL_VERSION,
                ClientHello.HANDSHAKE_FAILURE);
    }

    /** @return the alert description the server answers the hello with, or -1 if it answered a handshake record */
    private int alertFor(byte[] hello) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(hello);
            InputStream in = s.getInputStream();
            byte[] head = in.readNBytes(7);
            assertThat(head).hasSizeGreaterThanOrEqualTo(5);
            if (head[0] == 0x16) {
                return -1;
            }
            assertThat(head[0]).isEqualTo((byte) 0x15); // alert record
            assertThat(head[5]).isEqualTo((byte) 2); // fatal
            return head[6];
        }
    }

    @Test
    void negotiatesH2OverAlpnWhenTheClientPrefersItAndHttp11WhenTheListenerOffersOnlyThat() throws Exception {
        portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));
        try (SSLSocket s = (SSLSocket) TestCertificates.trusting(ca).getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), portico.port())) {
            s.setSoTimeout(5000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
            s.setSSLParameters(p);
            s.startHandshake();
            assertThat(s.getApplicationProtocol()).isEqualTo("h2");
        }

        ListenerTlsConfig h1 = twoCertificates(ClientAuth.NONE, null);
        portico.start(config(new ListenerTlsConfig(h1.certificates(), h1.protocols(), List.of("http/1.1"),
                h1.clientAuth(), h1.clientCa()), TimeoutsConfig.DEFAULTS));

        try (SSLSocket s = (SSLSocket) TestCertificates.trusting(ca).getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), portico.port())) {
            s.setSoTimeout(5000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
            s.setSSLParameters(p);
            s.startHandshake();
            assertThat(s.getApplicationProtocol()).isEqualTo("http/1.1");
            assertThat(TlsClient.get(s, "a.test", "/").status()).isEqualTo(200);
        }
    }

    @Test
    void requiredClientCertificateRefusesAClientWithoutOneAndServesOneWithIt() throws Exception {
        Issued clientCa = TestCertificates.ca("Client CA");
        Path clientCaFile = clientCa.write(dir, "client-ca").certificate();
        portico.start(config(twoCertificates(ClientAuth.REQUIRE, clientCaFile), TimeoutsConfig.DEFAULTS));

        assertThatThrownBy(() -> {
            try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "a.test")) {
                TlsClient.get(s, "a.test", "/"); // TLS 1.3: the refusal may only show on the first read
            }
        }).isInstanceOfAny(SSLException.class, java.net.SocketException.class, java.io.IOException.class);

        Issued stranger = TestCertificates.client(TestCertificates.ca("Other CA"), "mallory");
        assertThatThrownBy(() -> {
            try (SSLSocket s = TlsClient.connect(stranger.clientContext(ca), portico.port(), "a.test")) {
                TlsClient.get(s, "a.test", "/");
            }
        }).isInstanceOf(java.io.IOException.class);

        Issued alice = TestCertificates.client(clientCa, "alice");
        try (SSLSocket s = TlsClient.connect(alice.clientContext(ca), portico.port(), "a.test")) {
            assertThat(TlsClient.get(s, "a.test", "/").status()).isEqualTo(200);
        }
    }

    @Test
    void optionalClientCertificateServesAClientWithoutOneButRefusesABadOne() throws Exception {
        Issued clientCa = TestCertificates.ca("Client CA");
        Path clientCaFile = clientCa.write(dir, "client-ca").certificate();
        portico.start(config(twoCertificates(ClientAuth.OPTIONAL, clientCaFile), TimeoutsConfig.DEFAULTS));

        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "a.test")) {
            assertThat(TlsClient.get(s, "a.test", "/").status()).isEqualTo(200);
        }
        Issued stranger = TestCertificates.client(TestCertificates.ca("Other CA"), "mallory");
        assertThatThrownBy(() -> {
            try (SSLSocket s = TlsClient.connect(stranger.clientContext(ca), portico.port(), "a.test")) {
                TlsClient.get(s, "a.test", "/");
            }
        }).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void closesAClientThatNeverFinishesItsHandshake() throws Exception {
        TimeoutsConfig t = TimeoutsConfig.DEFAULTS;
        portico.start(config(twoCertificates(ClientAuth.NONE, null), t.withTlsHandshake(Duration.ofMillis(300))));

        for (byte[] sent : List.of(new byte[0], java.util.Arrays.copyOf(ClientHello.bytes(0x0303), 20))) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(sent);
                long start = System.nanoTime();
                assertThat(s.getInputStream().read()).isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
            }
        }
    }

    @Test
    void countsHandshakeTimeoutsAndGarbageAsFailedHandshakes() throws Exception {
        TimeoutsConfig t = TimeoutsConfig.DEFAULTS.withTlsHandshake(Duration.ofMillis(300));
        portico.start(ProxyConfig.builder().listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                twoCertificates(ClientAuth.NONE, null), false)).route("/", backend.url()).workers(1).timeouts(t)
                .operations(new dev.portico.config.OperationsConfig(new ListenAddress("127.0.0.1", 0), true,
                        dev.portico.config.OperationsConfig.DEFAULT_REQUEST_ID_HEADER, false, false)).build());

        for (byte[] sent : List.of(new byte[0], "GET / HTTP/1.1\r\nHost: t\r\n\r\n".getBytes())) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), portico.port())) {
                s.setSoTimeout(5000);
                s.getOutputStream().write(sent);
                assertThat(s.getInputStream().readAllBytes()).isNotNull(); // until closed
            }
        }

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                            + portico.proxy().adminAddress().getPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return r.body().lines().anyMatch(l -> l.matches(
                    "portico_tls_handshakes_total\\{[^}]*outcome=\"failure\"[^}]*} 2\\.0"));
        });
    }

    @Test
    void closesAPlainHttpRequestSentToATlsListenerAtOnce() throws Exception {
        portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));

        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
            long start = System.nanoTime();
            assertThat(c.socket().getInputStream().readAllBytes()).doesNotContain("HTTP/1.1".getBytes());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void servesWithTheJdkProviderToo() throws Exception {
        System.setProperty(TlsProvider.PROPERTY, "jdk");
        try {
            portico.start(config(twoCertificates(ClientAuth.NONE, null), TimeoutsConfig.DEFAULTS));
        } finally {
            System.clearProperty(TlsProvider.PROPERTY);
        }
        try (SSLSocket s = TlsClient.connect(TestCertificates.trusting(ca), portico.port(), "b.test")) {
            assertThat(TlsClient.serverName(s)).isEqualTo("b.test");
            assertThat(TlsClient.get(s, "b.test", "/").status()).isEqualTo(200);
        }
    }

    static ListAppender<ILoggingEvent> capture(String name) {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(name)).addAppender(appender);
        return appender;
    }

    static void release(ListAppender<ILoggingEvent> appender, String name) {
        ((Logger) LoggerFactory.getLogger(name)).detachAppender(appender);
        appender.stop();
    }
}
