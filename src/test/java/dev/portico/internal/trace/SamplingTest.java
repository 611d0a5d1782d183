package dev.portico.internal.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sampling decision made before the SDK: as the SDK's own samplers would decide. */
class SamplingTest {
    private static final String SPAN = "00f067aa0ba902b7";

    @Test
    void parentBasedFollowsTheCallersSampledFlagWhateverTheRatio() {
        Sampling never = new Sampling(0, true);
        Sampling always = new Sampling(1, true);

        assertThat(never.sampled("00-4bf92f3577b34da6a3ce929d0e0e4736-" + SPAN + "-01")).isTrue();
        assertThat(always.sampled("00-4bf92f3577b34da6a3ce929d0e0e4736-" + SPAN + "-00")).isFalse();
        assertThat(never.sampled(null)).isFalse();
        assertThat(always.sampled(null)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.01, 0.3, 0.5, 0.9})
    void theRatioDecidesOnTheTraceIdAsTraceIdRatioBasedDoes(double ratio) {
        Sampling ours = new Sampling(ratio, false);
        Sampler sdk = Sampler.traceIdRatioBased(ratio);
        Random random = new Random(42);
        int sampled = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] id = new byte[16];
            random.nextBytes(id);
            id[0] |= 1; // never all zero
            String traceId = HexFormat.of().formatHex(id);
            boolean expected = sdk.shouldSample(Context.root(), traceId, "x", SpanKind.SERVER, Attributes.empty(),
                    List.of()).getDecision() == SamplingDecision.RECORD_AND_SAMPLE;

            assertThat(ours.sampled("00-" + traceId + "-" + SPAN + "-01")).as(traceId).isEqualTo(expected);
            sampled += expected ? 1 : 0;
        }
        assertThat(sampled / 2000.0).isCloseTo(ratio, org.assertj.core.data.Offset.offset(0.05));
    }

    @ParameterizedTest
    @ValueSource(strings = {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", "junk"})
    void aMalformedTraceparentIsARootTraceSampledByTheRatio(String traceparent) {
        assertThat(Sampling.valid(traceparent)).isFalse();
        assertThat(new Sampling(0, true).sampled(traceparent)).isFalse();
        assertThat(new Sampling(1, true).sampled(traceparent)).isTrue();
    }
}
