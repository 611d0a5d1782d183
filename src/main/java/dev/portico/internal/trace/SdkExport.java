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
 * Builds the SDK's pieces for one tracing configuration: the OTLP exporter (HTTP through the JDK's HttpClient, or
 * gRPC through {@link NettyGrpcSender}), the bounded batch export, the resource and the tracer provider. A class of
 * its own so that {@link TraceExport}, which every proxy has, names no SDK type: without {@code tracing.otlp}
 * nothing of the SDK is loaded.
 */
final class SdkExport {
    /** How long ended spans wait to be sent together: short, so traces show up soon, and batches stay large. */
    static final Duration SCHEDULE_DELAY = Duration.ofSeconds(1);
    /**
     * The SDK's exporters log each failed export themselves (through java.util.logging); {@link Drops} counts them
     * and says so once a minute. Held here: java.util.logging keeps its loggers weakly, and the level with them.
     */
    private static final java.util.logging.Logger EXPORTER_LOG =
            java.util.logging.Logger.getLogger("io.opentelemetry.exporter.otlp.internal");

    private SdkExport() {
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
