package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The span-export keys of {@code tracing}: otlp, sampler, service_name. */
class TracingConfigTest {
    private static final String MINIMAL = "listen: 127.0.0.1:8080\nroutes: {/: \"http://127.0.0.1:8000\"}\n";

    @Test
    void loadsEveryKeyAsTheBuildersMakeIt() {
        ProxyConfig c = YamlConfigLoader.parse(MINIMAL + """
                tracing:
                  generate: true
                  otlp:
                    endpoint: https://api.honeycomb.io
                    headers: {x-honeycomb-team: abc123}
                    timeout: 2s
                  sampler: {ratio: 0.01, parent_based: false}
                  service_name: edge
                """, "t.yaml");

        TracingConfig expected = TracingConfig.builder()
                .otlp(OtlpConfig.builder("https://api.honeycomb.io").header("x-honeycomb-team", "abc123")
                        .timeout(Duration.ofSeconds(2)).build())
                .samplerRatio(0.01).samplerParentBased(false).serviceName("edge").build();
        assertThat(c.operations().tracing()).isEqualTo(expected);
        assertThat(c.operations().generateTraceparent()).isTrue();
        assertThat(c.operations().tracing().otlp().grpc()).isFalse();
    }

    @Test
    void withoutOtlpNothingIsExportedAndTheDefaultsHold() {
        ProxyConfig c = YamlConfigLoader.parse(MINIMAL + "tracing: {generate: true}\n", "t.yaml");

        assertThat(c.operations().tracing()).isEqualTo(TracingConfig.DEFAULTS);
        assertThat(c.operations().tracing().exports()).isFalse();
        assertThat(YamlConfigLoader.parse(MINIMAL, "t.yaml").operations()).isEqualTo(OperationsConfig.DEFAULTS);
        assertThat(TracingConfig.DEFAULTS.samplerRatio()).isEqualTo(1.0);
        assertThat(TracingConfig.DEFAULTS.samplerParentBased()).isTrue();
        assertThat(TracingConfig.DEFAULTS.serviceName()).isEqualTo("portico");
    }

    @Test
    void aGrpcEndpointAndTheDefaultTimeout() {
        ProxyConfig c = YamlConfigLoader.parse(MINIMAL + "tracing: {otlp: {endpoint: 'grpc://collector:4317'}}\n",
                "t.yaml");

        OtlpConfig otlp = c.operations().tracing().otlp();
        assertThat(otlp.endpoint()).isEqualTo(URI.create("grpc://collector:4317"));
        assertThat(otlp.grpc()).isTrue();
        assertThat(otlp.timeout()).isEqualTo(OtlpConfig.DEFAULT_TIMEOUT);
        assertThat(otlp.headers()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            tracing: {otlp: {endpoint: 'ftp://c:21'}}             | tracing.otlp.endpoint: must be http://, https:// (OTLP/HTTP), grpc:// or grpcs:// (OTLP/gRPC), got "ftp://c:21"
            tracing: {otlp: {endpoint: 'http://'}}                | tracing.otlp.endpoint: not a URL: "http://"
            tracing: {otlp: {endpoint: 'http:///v1/traces'}}      | tracing.otlp.endpoint: has no host: "http:///v1/traces"
            tracing: {otlp: {headers: {a: b}}}                    | tracing.otlp.endpoint: is required in an otlp section (http://host:4318 or grpc://host:4317)
            tracing: {otlp: {endpoint: 'http://c', timeout: 0s}}  | tracing.otlp.timeout: must be positive, got "0s"
            tracing: {otlp: {endpoint: 'http://c', headers: [a]}} | tracing.otlp.headers: expected a mapping of field names to values, got a list
            tracing: {otlp: {endpoint: 'http://c', tls: true}}    | tracing.otlp.tls: unknown key (known: endpoint, headers, timeout)
            tracing: {sampler: {ratio: 1.5}}                      | tracing.sampler.ratio: must be from 0 to 1, got 1.5
            tracing: {sampler: {ratio: half}}                     | tracing.sampler.ratio: expected a number from 0 to 1, got "half"
            tracing: {sampler: {parent_based: 1}}                 | tracing.sampler.parent_based: expected true or false, got 1
            tracing: {service_name: ' '}                          | tracing.service_name: is empty
            """)
    void namesTheKeyPathOfEachBadValue(String yaml, String problem) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> YamlConfigLoader.parse(MINIMAL + yaml + "\n", "t.yaml"));
        assertThat(e).as(yaml).isNotNull();
        assertThat(e.problems()).containsExactly(problem);
        assertThat(e.getMessage()).contains("t.yaml");
    }

    @Test
    void buildersValidateAsTheLoaderDoes() {
        assertThatThrownBy(() -> TracingConfig.builder().samplerRatio(-0.1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sampler.ratio");
        assertThatThrownBy(() -> OtlpConfig.builder("http://c").header("bad name", "v").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad name");
        assertThat(OperationsConfig.builder().tracing(TracingConfig.builder().otlp("http://c:4318").build()).build()
                .tracing().otlp()).isEqualTo(new OtlpConfig(URI.create("http://c:4318"), Map.of(),
                OtlpConfig.DEFAULT_TIMEOUT));
        assertThat(List.of(OtlpConfig.of("grpcs://c:4317").grpc())).containsExactly(true);
        OperationsConfig ops = OperationsConfig.builder().tracing(t -> t.otlp("http://c:4318").samplerRatio(0.1))
                .tracing(t -> t.serviceName("edge")).build();
        assertThat(ops.tracing()).isEqualTo(new TracingConfig(OtlpConfig.of("http://c:4318"), 0.1, true, "edge"));
    }
}
