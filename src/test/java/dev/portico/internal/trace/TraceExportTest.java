package dev.portico.internal.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.TracingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The export across reloads: kept while its settings are, replaced when they change, none without otlp. */
@Timeout(30)
class TraceExportTest {
    private static final TracingConfig A = TracingConfig.builder().otlp("http://127.0.0.1:4318").build();
    private static final TracingConfig B = TracingConfig.builder().otlp("http://127.0.0.1:4318").samplerRatio(0.5)
            .build();

    @Test
    void withoutOtlpThereIsNoExport() {
        try (TraceExport export = new TraceExport()) {
            assertThat(export.next(TracingConfig.DEFAULTS)).isNull();
            assertThat(export.drops().count()).isZero();
        }
    }

    @Test
    void anUnchangedSectionKeepsItsExporterAndAChangedOneGetsANewOne() {
        try (TraceExport export = new TraceExport()) {
            Tracing first = export.next(A);
            export.applied(first);

            assertThat(export.next(TracingConfig.builder().otlp("http://127.0.0.1:4318").build())).isSameAs(first);
            Tracing second = export.next(B);
            assertThat(second).isNotSameAs(first);
            assertThat(second.config()).isEqualTo(B);
            assertThat(export.next(B)).as("a refused reload's export is reused by the next try").isSameAs(second);
            export.applied(second);
            assertThat(export.next(B)).isSameAs(second);
        }
    }
}
