package dev.portico.internal.trace;

import dev.portico.config.TracingConfig;

/**
 * The span export of a running proxy across reloads: one {@link Tracing} per distinct configuration, made when a
 * configuration with {@code tracing.otlp} is loaded (never before: without it no class of the SDK is loaded), kept
 * while reloads leave it unchanged, and closed (its queue sent first) when a reload changes or removes it. The drop
 * count lives here, so it continues across them. Thread-safe.
 */
public final class TraceExport implements AutoCloseable {
    private final Drops drops = new Drops();
    private Tracing current;
    private Tracing candidate;

    /** @return the spans dropped so far */
    public Drops drops() {
        return drops;
    }

    /**
     * The spans of a configuration about to be applied.
     *
     * @param config the {@code tracing} settings
     * @return the running export if {@code config} is unchanged, a new one if it changed, {@code null} without
     *     {@code tracing.otlp}
     */
    public synchronized Tracing next(TracingConfig config) {
        if (!config.exports()) {
            return null;
        }
        if (current != null && current.config().equals(config)) {
            return current;
        }
        if (candidate != null && candidate.config().equals(config)) {
            return candidate;
        }
        if (candidate != null) {
            closeLater(candidate);
        }
        candidate = SdkExport.start(config, drops);
        return candidate;
    }

    /**
     * The configuration using {@code tracing} was applied: the export it replaced is closed.
     *
     * @param tracing its spans, or {@code null}
     */
    public synchronized void applied(Tracing tracing) {
        if (tracing == current) {
            return;
        }
        if (current != null) {
            closeLater(current);
        }
        current = tracing;
        if (candidate == tracing) {
            candidate = null;
        }
    }

    @Override
    public synchronized void close() {
        if (current != null) {
            current.close();
            current = null;
        }
        if (candidate != null) {
            candidate.close();
            candidate = null;
        }
    }

    /** Exchanges still in flight end their spans into the old export, which takes no more once closed. */
    private static void closeLater(Tracing t) {
        Thread closer = new Thread(t::close, "portico-tracing-close");
        closer.setDaemon(true);
        closer.start();
    }
}
