package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class CorrelationTest {
    private static final AsciiString ID = AsciiString.cached("x-request-id");

    @ParameterizedTest
    @ValueSource(strings = {"a", "123e4567-e89b-12d3-a456-426614174000", "Root=1-5759e988-bd862e3fe1be46a994272793",
        "svc:req/42@edge+x=y_z.1"})
    void keepsWellFormedIds(String id) {
        HttpHeaders h = new DefaultHttpHeaders().set(ID, id);

        assertThat(Correlation.requestId(h, ID)).isEqualTo(id);
        assertThat(h.getAll(ID)).containsExactly(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "two words", "quote\"", "back\\slash", "tab\there", "caf\u00e9", "semi;colon"})
    void replacesIdsThatCouldBreakALogLine(String id) {
        HttpHeaders h = new DefaultHttpHeaders().set(ID, id);

        String got = Correlation.requestId(h, ID);

        assertThat(got).matches("[0-9a-f]{32}");
        assertThat(h.getAll(ID)).containsExactly(got);
    }

    @Test
    void replacesAnIdLongerThan128Characters() {
        assertThat(Correlation.wellFormed("a".repeat(128))).isTrue();
        assertThat(Correlation.wellFormed("a".repeat(129))).isFalse();
    }

    @Test
    void readsTheTraceIdOfAWellFormedTraceparentAndLeavesAnyTraceparentAlone() {
        HttpHeaders good = new DefaultHttpHeaders().set("traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        HttpHeaders bad = new DefaultHttpHeaders().set("traceparent", "not-a-trace");
        HttpHeaders zero = new DefaultHttpHeaders().set("traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01");

        assertThat(Correlation.traceId(good, true)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(Correlation.traceId(bad, true)).isNull();
        assertThat(bad.getAll("traceparent")).containsExactly("not-a-trace");
        assertThat(Correlation.traceId(zero, true)).isNull();
    }

    @Test
    void startsATraceOnlyWhenAskedAndNoneCameIn() {
        HttpHeaders none = new DefaultHttpHeaders();
        assertThat(Correlation.traceId(none, false)).isNull();
        assertThat(none.contains("traceparent")).isFalse();

        String id = Correlation.traceId(none, true);

        assertThat(none.get("traceparent")).isEqualTo("00-" + id + "-" + none.get("traceparent").substring(36, 52)
                + "-01").matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    }
}
