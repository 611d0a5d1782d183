package dev.portico.config;

import java.util.Objects;

/**
 * Distributed tracing ({@code tracing}, beside {@code tracing.generate}, which is in {@link OperationsConfig}):
 * where spans go and which requests are traced. Without {@code otlp} no span is made.
 *
 * @param otlp where spans are exported ({@code otlp}), or {@code null} for no export (the default)
 * @param samplerRatio the share of root traces sampled, 0 to 1 ({@code sampler.ratio})
 * @param samplerParentBased whether a request whose {@code traceparent} says sampled or not is traced as it says,
 *     rather than by the ratio ({@code sampler.parent_based})
 * @param serviceName the resource attribute {@code service.name} ({@code service_name})
 */
public record TracingConfig(OtlpConfig otlp, double samplerRatio, boolean samplerParentBased, String serviceName) {
    /** Default {@code tracing.service_name}. */
    public static final String DEFAULT_SERVICE_NAME = "portico";
    /** No export, every root trace sampled once export is on, parents followed, service name {@code portico}. */
    public static final TracingConfig DEFAULTS = new TracingConfig(null, 1.0, true, DEFAULT_SERVICE_NAME);

    /** Validates the ratio and the service name. */
    public TracingConfig {
        if (!(samplerRatio >= 0 && samplerRatio <= 1)) {
            throw new IllegalArgumentException("sampler.ratio must be from 0 to 1, got " + samplerRatio);
        }
        Objects.requireNonNull(serviceName, "serviceName");
        if (serviceName.isBlank()) {
            throw new IllegalArgumentException("service_name is empty");
        }
    }

    /** @return whether spans are made and exported */
    public boolean exports() {
        return otlp != null;
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /** @return a builder starting from these settings */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builds {@link TracingConfig}; each method is named after its key under {@code tracing}. Not thread-safe. */
    public static final class Builder {
        private OtlpConfig otlp;
        private double samplerRatio;
        private boolean samplerParentBased;
        private String serviceName;

        Builder(TracingConfig from) {
            otlp = from.otlp;
            samplerRatio = from.samplerRatio;
            samplerParentBased = from.samplerParentBased;
            serviceName = from.serviceName;
        }

        /**
         * @param value {@code otlp}: where spans go, or {@code null} for no export
         * @return this
         */
        public Builder otlp(OtlpConfig value) {
            otlp = value;
            return this;
        }

        /**
         * @param endpoint {@code otlp.endpoint}, with no headers and the default timeout
         * @return this
         */
        public Builder otlp(String endpoint) {
            otlp = OtlpConfig.of(endpoint);
            return this;
        }

        /**
         * @param value {@code sampler.ratio}: the share of root traces sampled, 0 to 1
         * @return this
         */
        public Builder samplerRatio(double value) {
            samplerRatio = value;
            return this;
        }

        /**
         * @param value {@code sampler.parent_based}: whether an incoming {@code traceparent}'s sampled flag decides
         * @return this
         */
        public Builder samplerParentBased(boolean value) {
            samplerParentBased = value;
            return this;
        }

        /**
         * @param value {@code service_name}
         * @return this
         */
        public Builder serviceName(String value) {
            serviceName = value;
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if one is not valid
         */
        public TracingConfig build() {
            return new TracingConfig(otlp, samplerRatio, samplerParentBased, serviceName);
        }
    }
}
