package dev.portico.config;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where spans are exported ({@code tracing.otlp}): an OpenTelemetry collector, or any backend that speaks OTLP.
 *
 * @param endpoint {@code http://host:4318} or {@code https://...} for OTLP/HTTP with protobuf bodies (a bare
 *     endpoint gets the path {@code /v1/traces}; one with a path is used as it is), {@code grpc://host:4317} for
 *     OTLP/gRPC in plain text, {@code grpcs://host:4317} for OTLP/gRPC over TLS
 * @param headers fields sent with every export, e.g. an API key ({@code headers}); shown redacted in
 *     {@code /config}
 * @param timeout how long one export may take before it is given up ({@code timeout})
 */
public record OtlpConfig(URI endpoint, Map<String, String> headers, Duration timeout) {
    /** Default {@code tracing.otlp.timeout}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** Validates the endpoint (scheme and host) and the timeout, and copies the headers. */
    public OtlpConfig {
        Objects.requireNonNull(endpoint, "endpoint");
        String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") && !scheme.equals("grpc") && !scheme.equals("grpcs")) {
            throw new IllegalArgumentException("endpoint must be http://, https:// (OTLP/HTTP), grpc:// or grpcs:// "
                    + "(OTLP/gRPC), got \"" + endpoint + "\"");
        }
        if (endpoint.getHost() == null || endpoint.getHost().isEmpty()) {
            throw new IllegalArgumentException("endpoint has no host: \"" + endpoint + "\"");
        }
        if (endpoint.getQuery() != null || endpoint.getFragment() != null || endpoint.getUserInfo() != null) {
            throw new IllegalArgumentException("endpoint must not have a query, fragment or user info: \""
                    + endpoint + "\"");
        }
        headers = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(headers, "headers")));
        for (Map.Entry<String, String> h : headers.entrySet()) {
            if (h.getKey().isEmpty() || !h.getKey().chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
                throw new IllegalArgumentException("headers: not a valid header field name: \"" + h.getKey() + "\"");
            }
            if (h.getValue().chars().anyMatch(c -> c < 32 && c != '\t' || c == 127)) {
                throw new IllegalArgumentException("headers: the value of " + h.getKey()
                        + " has control characters");
            }
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
    }

    /**
     * @param endpoint as the record's component
     * @return the settings with no headers and the default timeout
     */
    public static OtlpConfig of(String endpoint) {
        return builder(endpoint).build();
    }

    /** @return whether the endpoint speaks OTLP/gRPC rather than OTLP/HTTP */
    public boolean grpc() {
        return endpoint.getScheme().toLowerCase(Locale.ROOT).startsWith("grpc");
    }

    /**
     * @param endpoint {@code tracing.otlp.endpoint}
     * @return a builder with no headers and the default timeout
     * @throws IllegalArgumentException if {@code endpoint} is not a URI
     */
    public static Builder builder(String endpoint) {
        return new Builder(URI.create(Objects.requireNonNull(endpoint, "endpoint")));
    }

    /** Builds {@link OtlpConfig}; each method is named after its YAML key under {@code tracing.otlp}. */
    public static final class Builder {
        private final URI endpoint;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private Duration timeout = DEFAULT_TIMEOUT;

        Builder(URI endpoint) {
            this.endpoint = endpoint;
        }

        /**
         * @param name a field sent with every export ({@code headers})
         * @param value its value
         * @return this
         */
        public Builder header(String name, String value) {
            headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * @param value {@code timeout}: how long one export may take
         * @return this
         */
        public Builder timeout(Duration value) {
            timeout = value;
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if one is not valid
         */
        public OtlpConfig build() {
            return new OtlpConfig(endpoint, headers, timeout);
        }
    }
}
