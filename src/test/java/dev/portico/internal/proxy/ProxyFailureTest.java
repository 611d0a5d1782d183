package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import dev.portico.internal.proxy.ProxyFailure.Kind;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ProxyFailureTest {

    @ParameterizedTest
    @CsvSource({
            "BAD_REQUEST, 400",
            "NO_ROUTE, 404",
            "REQUEST_TIMEOUT, 408",
            "REQUEST_TOO_LARGE, 413",
            "URI_TOO_LONG, 414",
            "HEADERS_TOO_LARGE, 431",
            "NOT_IMPLEMENTED, 501",
            "VERSION_NOT_SUPPORTED, 505",
            "EXPECTATION_FAILED, 417",
            "CONNECT_REFUSED, 502",
            "UPSTREAM_RESET, 502",
            "NO_HEALTHY_ENDPOINT, 503",
            "CONNECT_TIMEOUT, 504",
            "RESPONSE_TIMEOUT, 504"})
    void kindMapsToTheStatusOfTheFailureTable(Kind kind, int status) {
        assertThat(kind.status().code()).isEqualTo(status);
    }

    @Test
    void everyKindButClientAbortedHasAStatus() {
        EnumSet<Kind> withStatus = EnumSet.allOf(Kind.class);
        withStatus.remove(Kind.CLIENT_ABORTED);

        assertThat(Kind.CLIENT_ABORTED.status()).isNull();
        assertThat(withStatus).allSatisfy(k -> assertThat(k.status()).as(k.name()).isNotNull());
        assertThat(Kind.values()).hasSize(16);
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"CONNECT_REFUSED", "CONNECT_TIMEOUT"})
    void connectFailuresAreSafeToRetryWhateverTheMethod(Kind kind) {
        assertThat(kind.retrySafe()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = Kind.class, mode = EnumSource.Mode.EXCLUDE, names = {"CONNECT_REFUSED", "CONNECT_TIMEOUT"})
    void otherKindsAreNotSafeToRetryWhateverTheMethod(Kind kind) {
        assertThat(kind.retrySafe()).isFalse();
    }

    @Test
    void carriesItsKindAndUserSafeDetail() {
        ProxyFailure failure = new ProxyFailure(Kind.NO_ROUTE, "no route for this host and path");

        assertThat(failure.kind()).isEqualTo(Kind.NO_ROUTE);
        assertThat(failure).hasMessage("no route for this host and path").hasNoCause();
    }

    @Test
    void hasNoStackTraceSinceItIsAnExpectedOutcome() {
        ProxyFailure failure = new ProxyFailure(Kind.BAD_REQUEST, "malformed request");

        assertThat(failure.getStackTrace()).isEmpty();
    }

    @Test
    void requiresAKind() {
        assertThatNullPointerException().isThrownBy(() -> new ProxyFailure(null, "x")).withMessage("kind");
    }
}
