package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CompressPolicyConfigTest {
    private static ProxyConfig parse(String policy) {
        return ProxyConfig.parse("""
                listen: 127.0.0.1:8080
                policies:
                  squeeze:
                """ + policy.indent(4) + """
                routes: [{path: /, upstream: "http://127.0.0.1:8000", policies: [squeeze]}]
                """, "p.yaml");
    }

    private static CompressPolicyConfig policy(String yaml) {
        return (CompressPolicyConfig) parse(yaml).routes().get(0).policies().get(0);
    }

    private static List<String> problems(String yaml) {
        return catchThrowableOfType(() -> parse(yaml), ConfigException.class).problems();
    }

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        CompressPolicyConfig c = policy("compress: {}");

        assertThat(c.encodings()).containsExactly("zstd", "br", "gzip");
        assertThat(c.minLength()).isEqualTo(1024);
        assertThat(c.types()).containsExactly("text/*", "application/json", "application/javascript",
                "application/xml", "image/svg+xml");
        assertThat(c.levels()).isEqualTo(Map.of("gzip", 5, "br", 4, "zstd", 3));
        assertThat(policy("compress:")).isEqualTo(c).isEqualTo(CompressPolicyConfig.defaults());
    }

    @Test
    void everyKeyIsReadAndAnUnsetLevelKeepsItsDefault() {
        CompressPolicyConfig c = policy("""
                compress:
                  encodings: [gzip, br]
                  min_length: 4KiB
                  types: [text/html, Application/JSON]
                  level: {gzip: 9}
                """);

        assertThat(c.encodings()).containsExactly("gzip", "br");
        assertThat(c.minLength()).isEqualTo(4096);
        assertThat(c.types()).containsExactly("text/html", "application/json");
        assertThat(c.level("gzip")).isEqualTo(9);
        assertThat(c.level("br")).isEqualTo(4);
        assertThat(c).isEqualTo(CompressPolicyConfig.builder().encodings("gzip", "br").minLength(4096)
                .types("text/html", "application/json").level("gzip", 9).build());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "compress: {encodings: [gzip, deflate]} | P.encodings: names an unknown encoding \"deflate\"",
        "compress: {encodings: []} | P.encodings: must name at least one",
        "compress: {encodings: [br, br]} | P.encodings: names an encoding twice",
        "compress: {encodings: [{a: 1}]} | P.encodings[0]: expected an encoding",
        "compress: {min_length: -1} | P.min_length:",
        "compress: {min_length: lots} | P.min_length: not a size",
        "compress: {types: [html]} | P.types: has \"html\", not a media type",
        "compress: {types: [\"*/*\"]} | P.types: has \"*/*\", not a media type",
        "compress: {types: []} | P.types: must name at least one",
        "compress: {level: {br: 12}} | P.level.br: must be between 0 and 11, got 12",
        "compress: {level: {gzip: 0}} | P.level.gzip: must be between 1 and 9, got 0",
        "compress: {level: {zstd: 22}} | P.level.zstd: must be between 1 and 19",
        "compress: {level: {gzip: fast}} | P.level.gzip: expected a whole number",
        "compress: {level: {lz4: 1}} | P.level.lz4: unknown key",
        "compress: {window: 1} | P.window: unknown key",
        "compress: [gzip] | policies.squeeze.compress: expected a mapping",
    })
    void aBadSettingIsReportedUnderItsKeyPath(String yaml, String problem) {
        String expected = problem.replace("P.", "policies.squeeze.compress.");
        assertThat(problems(yaml)).anySatisfy(p -> assertThat(p).startsWith(expected));
    }

    @Test
    void theBuilderChecksWhatTheLoaderChecks() {
        assertThatThrownBy(() -> CompressPolicyConfig.builder().level("br", 12).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("level br must be between 0 and 11");
        assertThatThrownBy(() -> CompressPolicyConfig.builder().encodings("lz4").build())
                .hasMessageContaining("unknown encoding \"lz4\"");
        assertThatThrownBy(() -> CompressPolicyConfig.builder().types("text/").build())
                .hasMessageContaining("not a media type");
    }
}
