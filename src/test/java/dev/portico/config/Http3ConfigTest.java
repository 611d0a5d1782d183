package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portico.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener key {@code http3}: read from YAML and the builder, refused without {@code tls}. */
class Http3ConfigTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void files() throws Exception {
        TestCertificates.server(TestCertificates.ca("CA"), "a.test").write(dir, "a");
    }

    @Test
    void aTlsListenerMayServeHttp3AndIsOffByDefault() {
        ProxyConfig config = YamlConfigLoader.parse("""
                listen:
                  - {address: 127.0.0.1:8443, tls: {certificate: a.pem, key: a.key}, http3: true}
                  - {address: 127.0.0.1:8444, tls: {certificate: a.pem, key: a.key}}
                routes: {/: "http://127.0.0.1:9000"}
                """, "test.yaml", dir);

        assertThat(config.listen().get(0).http3()).isTrue();
        assertThat(config.listen().get(1).http3()).isFalse();
    }

    @Test
    void http3WithoutTlsIsAProblemNamingTheFileAndKey() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, """
                listen:
                  - {address: 127.0.0.1:8080, http3: true}
                routes: {/: "http://127.0.0.1:9000"}
                """);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ProxyConfig.load(file));

        assertThat(e).isNotNull();
        assertThat(e.problems()).containsExactly(
                "listen[0].http3: needs tls (QUIC is always encrypted); add tls or remove http3");
        assertThat(e.getMessage()).contains("portico.yaml");
    }

    @Test
    void http3MustBeABoolean() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> YamlConfigLoader.parse("""
                listen:
                  - {address: 127.0.0.1:8443, tls: {certificate: a.pem, key: a.key}, http3: maybe}
                routes: {/: "http://127.0.0.1:9000"}
                """, "test.yaml", dir));

        assertThat(e.problems()).singleElement().asString().startsWith("listen[0].http3: ");
    }

    @Test
    void theBuilderRefusesHttp3WithoutTls() {
        assertThatThrownBy(() -> ListenerConfig.builder().address("127.0.0.1", 8080).http3(true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http3 needs tls");
    }
}
