package dev.portico.internal.trace;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bound in front of the batch processor, and the count of what it and the exporter lose. A span ended while
 * {@link #MAX_QUEUED} others wait for export is dropped at once (the event loop never waits for the exporter), and so
 * are the spans of a batch the collector did not take; both are counted in {@link Drops}. The batch processor's own
 * queue is larger than this bound, so it never drops a span without this class knowing.
 */
final class BoundedExport implements SpanProcessor {
    /** Spans waiting for export at most. */
    static final int MAX_QUEUED = 2048;

    private final AtomicInteger queued = new AtomicInteger();
    private final Drops drops;
    private SpanProcessor batch;

    BoundedExport(Drops drops) {
        this.drops = drops;
    }

    /** @param processor the batch processor, fed with what this class lets through */
    void batch(SpanProcessor processor) {
        this.batch = processor;
    }

    /** @return the exporter wrapped so that each batch leaves the count of queued spans, and failures are drops */
    SpanExporter counting(SpanExporter exporter) {
        return new SpanExporter() {
            @Override
            public CompletableResultCode export(Collection<SpanData> spans) {
                int n = spans.size();
                CompletableResultCode r;
                try {
                    r = exporter.export(spans);
                } catch (RuntimeException e) {
                    queued.addAndGet(-n);
                    drops.add(n, "export failed: " + e);
                    return CompletableResultCode.ofFailure();
                }
                r.whenComplete(() -> {
                    queued.addAndGet(-n);
                    if (!r.isSuccess()) {
                        drops.add(n, "the collector did not take them");
                    }
                });
                return r;
            }

            @Override
            public CompletableResultCode flush() {
                return exporter.flush();
            }

            @Override
            public CompletableResultCode shutdown() {
                return exporter.shutdown();
            }
        };
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
    }

    @Override
    public boolean isStartRequired() {
        return false;
    }

    @Override
    public void onEnd(ReadableSpan span) {
        if (!span.getSpanContext().isSampled()) {
            return;
        }
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            drops.add(1, "the export queue is full: the collector is slow or down");
            return;
        }
        batch.onEnd(span);
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    @Override
    public CompletableResultCode shutdown() {
        return batch.shutdown();
    }

    @Override
    public CompletableResultCode forceFlush() {
        return batch.forceFlush();
    }
}
