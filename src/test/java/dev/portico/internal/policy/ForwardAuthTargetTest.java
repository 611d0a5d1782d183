package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

class ForwardAuthTargetTest {
    @Test
    void theHostFieldOmitsADefaultPortAndTheTargetKeepsPathAndQuery() {
        ForwardAuthTarget t = ForwardAuthTarget.of("http://127.0.0.1:80/api/verify/?rd=https%3A%2F%2Fx", 1000);
        assertThat(t.host).isEqualTo("127.0.0.1");
        assertThat(t.target).isEqualTo("/api/verify/?rd=https%3A%2F%2Fx");
        assertThat(t.endpoint.address().getPort()).isEqualTo(80);
        assertThat(t.endpoint.tls()).isNull();
    }

    @Test
    void aBareAuthorityAsksForTheRootAndKeepsAnOtherPort() {
        ForwardAuthTarget t = ForwardAuthTarget.of("http://[::1]:9091", 1000);
        assertThat(t.host).isEqualTo("[::1]:9091");
        assertThat(t.target).isEqualTo("/");
    }

    @Test
    void httpsGetsATlsClientAndPort443ByDefault() {
        ForwardAuthTarget t = ForwardAuthTarget.of("https://127.0.0.1/auth", 1000);
        assertThat(t.endpoint.tls()).isNotNull();
        assertThat(t.endpoint.address().getPort()).isEqualTo(443);
        assertThat(t.host).isEqualTo("127.0.0.1");
    }

    @Test
    void aNameThatDoesNotResolveIsAnErrorWhenThePolicyIsMade() {
        assertThatThrownBy(() -> ForwardAuthTarget.of("http://no-such-host.invalid/verify", 1000))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("no-such-host.invalid");
    }
}
