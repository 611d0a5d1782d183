package dev.portico.internal.metrics;

import io.prometheus.metrics.tracer.common.SpanContext;

/**
 * The trace of the request being recorded, for the latency histograms' exemplars: set around a sampled request's
 * recording on its event loop, read by the Prometheus client as it records. Outside that window (and always when
 * tracing is off) there is no current span, and no exemplar is taken. One per registry; the current span is per
 * thread.
 */
public final class Exemplars implements SpanContext {
    private static final ThreadLocal<String[]> CURRENT = ThreadLocal.withInitial(() -> new String[2]);

    /**
     * Names the span whose measurements are recorded next on this thread.
     *
     * @param traceId the trace id (32 hex digits)
     * @param spanId the span id (16 hex digits)
     */
    public static void begin(String traceId, String spanId) {
        String[] c = CURRENT.get();
        c[0] = traceId;
        c[1] = spanId;
    }

    /** The span's measurements are recorded. */
    public static void end() {
        String[] c = CURRENT.get();
        c[0] = null;
        c[1] = null;
    }

    @Override
    public String getCurrentTraceId() {
        return CURRENT.get()[0];
    }

    @Override
    public String getCurrentSpanId() {
        return CURRENT.get()[1];
    }

    @Override
    public boolean isCurrentSpanSampled() {
        return CURRENT.get()[0] != null;
    }

    @Override
    public void markCurrentSpanAsExemplar() {
        // The span is already exported: nothing to force.
    }
}
