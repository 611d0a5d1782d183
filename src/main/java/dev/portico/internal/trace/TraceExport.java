package dev.portico.internal.trace;

import dev.portico.config.OtlpConfig;
import dev.portico.config.TracingConfig;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * The span export of a running proxy across reloads: one {@link Tracing} per distinct configuration, made when a
 * configuration with {@code tracing.otlp} is loaded (never before: without it no class of the SDK is loaded), kept
 * while reloads leave it unchanged, and closed (its queue sent first) when a reload changes or removes it. The drop
 * count lives here, so it continues across them. Thread-safe.
 */
public final class TraceExport implements AutoCloseable {
    /** How long ended spans wait to be sent together: short, so traces show up soon, and batches stay large. */
    static final Duration SCHEDULE_DELAY = Duration.ofSeconds(1);

    /**
     * The SDK's exporters log each failed export themselves (through java.util.logging); {@link Drops} counts them
     * and says so once a minute. Held here: java.util.logging keeps its loggers weakly, and the level with them.
     */
    private static final java.util.logging.Logger EXPORTER_LOG =
            java.util.logging.Logger.getLogger("io.opentelemetry.exporter.otlp.internal");

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
        candidate = start(config, drops);
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

    static Tracing start(TracingConfig config, Drops drops) {
        EXPORTER_LOG.setLevel(java.util.logging.Level.OFF);
        BoundedExport bound = new BoundedExport(drops);
        OtlpConfig otlp = config.otlp();
        bound.batch(BatchSpanProcessor.builder(bound.counting(exporter(otlp)))
                .setMaxQueueSize(BoundedExport.MAX_QUEUED * 2) // never full: BoundedExport drops first, and counts
                .setMaxExportBatchSize(512)
                .setScheduleDelay(SCHEDULE_DELAY)
                .setExporterTimeout(otlp.timeout())
                .build());
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), config.serviceName(),
                        AttributeKey.stringKey("service.version"), version(),
                        AttributeKey.stringKey("host.name"), hostName()))))
                .setSampler(Sampler.alwaysOn()) // Sampling decided already: only sampled requests get here
                .addSpanProcessor(bound)
                .build();
        return new Tracing(config, provider);
    }

    private static SpanExporter exporter(OtlpConfig otlp) {
        URI e = otlp.endpoint();
        String authority = e.getScheme().toLowerCase(java.util.Locale.ROOT).endsWith("s") ? "https://" : "http://";
        authority += e.getRawAuthority();
        String path = e.getRawPath() == null ? "" : e.getRawPath();
        if (otlp.grpc()) {
            var b = OtlpGrpcSpanExporter.builder().setEndpoint(authority + path).setTimeout(otlp.timeout())
                    .setComponentLoader(NettyGrpcSender.LOADER).setRetryPolicy(null);
            for (Map.Entry<String, String> h : otlp.headers().entrySet()) {
                b.addHeader(h.getKey(), h.getValue());
            }
            return b.build();
        }
        var b = OtlpHttpSpanExporter.builder()
                .setEndpoint(authority + (path.isEmpty() || path.equals("/") ? "/v1/traces" : path))
                .setTimeout(otlp.timeout());
        for (Map.Entry<String, String> h : otlp.headers().entrySet()) {
            b.addHeader(h.getKey(), h.getValue());
        }
        return b.build();
    }

    static String version() {
        String v = TraceExport.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
