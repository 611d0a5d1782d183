package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portico.config.ListenerTlsConfig.ClientAuth;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS keys of the YAML configuration: forms, defaults, and problems named by key path. */
class TlsConfigTest {
    @TempDir
    static Path dir;
    private static Pem a;
    private static Pem b;
    private static Pem ca;

    @BeforeAll
    static void files() throws Exception {
        Issued root = TestCertificates.ca("CA");
        a = TestCertificates.server(root, "a.test").write(dir, "a");
        b = TestCertificates.serverRsa(root, "b.test").write(dir, "b", TestCertificates.KeyFormat.TRADITIONAL);
        ca = root.write(dir, "ca");
    }

    private static ProxyConfig parse(String yaml) {
        return YamlConfigLoader.parse(yaml, "test.yaml", dir);
    }

    private static List<String> problemsOf(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
        assertThat(e).as("ConfigException for:%n%s", yaml).isNotNull();
        return e.problems();
    }

    @Test
    void readsListenersInBothFormsWithTlsDefaultsAndTheShortForm() {
        ProxyConfig config = parse("""
                listen:
                  - 127.0.0.1:8080
                  - address: 127.0.0.1:8443
                    tls: {certificate: a.pem, key: a.key}
                  - address: 127.0.0.1:8081
                    redirect_https: true
                routes: {/: "http://127.0.0.1:9000"}
                """);

        assertThat(config.listen()).hasSize(3);
        assertThat(config.listen().get(0)).isEqualTo(ListenerConfig.plain(new ListenAddress("127.0.0.1", 8080)));
        ListenerTlsConfig tls = config.listen().get(1).tls();
        assertThat(tls).isEqualTo(ListenerTlsConfig.of(dir.resolve("a.pem"), dir.resolve("a.key")));
        assertThat(tls.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(tls.alpn()).containsExactly("h2", "http/1.1");
        assertThat(tls.clientAuth()).isEqualTo(ClientAuth.NONE);
        assertThat(config.listen().get(2).redirectHttps()).isTrue();
        assertThat(config.timeouts().tlsHandshake()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void aChainFileCutInsideItsSecondCertificateIsAProblemNamingTheFile() throws Exception {
        String chain = Files.readString(a.certificate());
        int second = chain.indexOf("-----BEGIN CERTIFICATE-----", 1);
        assertThat(second).as("the test chain has two certificates").isPositive();
        Path cut = dir.resolve("cut.pem");
        Files.writeString(cut, chain.substring(0, second + (chain.length() - second) / 2));

        List<String> problems = problemsOf("""
                listen:
                  - address: 127.0.0.1:8443
                    tls: {certificate: cut.pem, key: a.key}
                routes: {/: "http://127.0.0.1:9000"}
                """);

        assertThat(problems).singleElement().asString().startsWith("listen[0].tls.certificate")
                .contains(cut.toString(), "certificate 2", "cut off");
    }

    @Test
    void readsEveryTlsKey() {
        ProxyConfig config = parse("""
                listen:
                  - address: 127.0.0.1:8443
                    tls:
                      certificates:
                        - {certificate: a.pem, key: a.key}
                        - {certificate: b.pem, key: b.key}
                      protocols: [TLSv1.3]
                      alpn: [http/1.1]
                      client_auth: require
                      client_ca: ca.pem
                routes:
                  - path: /
                    upstream: https://backend.test
                    upstream_tls:
                      ca: ca.pem
                      server_name: internal.test
                      certificate: a.pem
                      key: a.key
                      insecure_skip_verify: false
                  - {path: /plain, upstream: "http://h:1"}
                  - {path: /defaults, upstream: "https://h"}
                timeouts: {tls_handshake: 3s}
                """);

        ListenerTlsConfig tls = config.listen().get(0).tls();
        assertThat(tls.certificates()).containsExactly(new CertificateConfig(dir.resolve("a.pem"), dir.resolve("a.key")),
                new CertificateConfig(dir.resolve("b.pem"), dir.resolve("b.key")));
        assertThat(tls.protocols()).containsExactly("TLSv1.3");
        assertThat(tls.alpn()).containsExactly("http/1.1");
        assertThat(tls.clientAuth()).isEqualTo(ClientAuth.REQUIRE);
        assertThat(tls.clientCa()).isEqualTo(dir.resolve("ca.pem"));
        assertThat(config.routes().get(0).upstream().servers().get(0).url())
                .isEqualTo(new UpstreamUrl("backend.test", 443, "", true));
        assertThat(config.routes().get(0).upstreamTls()).isEqualTo(new UpstreamTlsConfig(dir.resolve("ca.pem"),
                "internal.test", dir.resolve("a.pem"), dir.resolve("a.key"), false));
        assertThat(config.routes().get(1).upstreamTls()).isNull();
        assertThat(config.routes().get(2).upstreamTls()).isEqualTo(UpstreamTlsConfig.DEFAULTS);
        assertThat(config.timeouts().tlsHandshake()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void namesTheKeyPathOfMissingAndBadFiles() throws Exception {
        Files.writeString(dir.resolve("garbage.pem"), "hello\n");
        assertThat(problemsOf("""
                listen:
                  - address: 127.0.0.1:8443
                    tls:
                      certificates:
                        - {certificate: missing.pem, key: a.key}
                        - {certificate: garbage.pem, key: b.key}
                        - {certificate: a.pem, key: b.key}
                        - {certificate: a.pem, key: garbage.pem}
                routes:
                  - path: /
                    upstream: https://h
                    upstream_tls: {ca: nope.pem}
                """)).containsExactly(
                "listen[0].tls.certificates[0].certificate: cannot read \"" + dir.resolve("missing.pem")
                        + "\": No such file",
                "listen[0].tls.certificates[1].certificate: no PEM certificate (BEGIN CERTIFICATE) in \""
                        + dir.resolve("garbage.pem") + "\"",
                "listen[0].tls.certificates[2].key: the key is RSA but the certificate's is EC",
                "listen[0].tls.certificates[3].key: no PEM private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC "
                        + "PRIVATE KEY) in \"" + dir.resolve("garbage.pem") + "\"",
                "routes[0].upstream_tls.ca: cannot read \"" + dir.resolve("nope.pem") + "\": No such file");
    }

    @Test
    void namesTheShortFormKeys() {
        assertThat(problemsOf("""
                listen: {address: 127.0.0.1:8443, tls: {certificate: a.pem}}
                routes: {/: "http://h"}
                """)).containsExactly("listen.tls.key: is required");
        assertThat(problemsOf("""
                listen: {address: 127.0.0.1:8443, tls: {certificate: a.pem, key: nope.key}}
                routes: {/: "http://h"}
                """)).containsExactly("listen.tls.key: cannot read \"" + dir.resolve("nope.key") + "\": No such file");
    }

    @Test
    void refusesOldProtocolsUnknownAlpnAndBadClientAuth() {
        assertThat(problemsOf("""
                listen:
                  - address: 127.0.0.1:1
                    tls: {certificate: a.pem, key: a.key, protocols: [TLSv1.2, TLSv1.1]}
                  - address: 127.0.0.1:2
                    tls: {certificate: a.pem, key: a.key, alpn: [spdy/3]}
                  - address: 127.0.0.1:3
                    tls: {certificate: a.pem, key: a.key, client_auth: require}
                  - address: 127.0.0.1:4
                    tls: {certificate: a.pem, key: a.key, client_auth: sometimes}
                  - address: 127.0.0.1:5
                    tls: {certificate: a.pem, key: a.key, certificates: []}
                  - address: 127.0.0.1:6
                    tls: {certificate: a.pem, key: a.key}
                    redirect_https: true
                  - {address: 127.0.0.1:7, tls: {certificates: []}}
                  - {address: 127.0.0.1:8, tls: {certificate: a.pem, key: a.key, cert: x}}
                routes: {/: "http://h"}
                """)).containsExactly(
                "listen[0].tls.protocols: may only hold TLSv1.3, TLSv1.2 (nothing older than TLSv1.2 is allowed), "
                        + "got \"TLSv1.1\"",
                "listen[1].tls.alpn: may only hold h2, http/1.1, got \"spdy/3\"",
                "listen[2].tls.client_ca: is required with client_auth require",
                "listen[3].tls.client_auth: expected none, optional or require, got \"sometimes\"",
                "listen[4].tls: give either certificates or certificate and key, not both",
                "listen[5].redirect_https: is for plain listeners; this one has tls",
                "listen[6].tls.certificates: expected a list of {certificate, key}, got an empty list",
                "listen[7].tls.cert: unknown key (known: certificates, certificate, key, protocols, alpn, "
                        + "client_auth, client_ca)");
    }

    @Test
    void refusesUpstreamTlsOnAPlainUpstreamAndAHalfClientCertificate() {
        assertThat(problemsOf("""
                listen: 127.0.0.1:8080
                routes:
                  - {path: /a, upstream: "http://h", upstream_tls: {insecure_skip_verify: true}}
                  - {path: /b, upstream: "https://h", upstream_tls: {certificate: a.pem}}
                  - {path: /c, upstream: "https://h", upstream_tls: {server_name: "a b"}}
                """)).containsExactly(
                "routes[0].upstream_tls: needs an https:// upstream",
                "routes[1].upstream_tls.key: is required",
                "routes[2].upstream_tls.server_name: is not a host name: \"a b\"");
    }

    @Test
    void aMismatchedPairIsRefusedOnTheBuilderRoadAsOnTheYamlOne() {
        assertThatThrownBy(() -> ListenerTlsConfig.of(dir.resolve("a.pem"), dir.resolve("b.key")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("key the key ");
        assertThatThrownBy(() -> new CertificateConfig(dir.resolve("missing.pem"), dir.resolve("a.key")))
                .hasMessageStartingWith("certificate ");
    }
}
