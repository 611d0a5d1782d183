package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class YamlConfigLoaderTest {
    static final String FULL = """
            listen:
              - 127.0.0.1:8080
              - "[::1]:8443"
            routes:
              - path: /api/
                upstream: http://127.0.0.1:8000
              - path: /static
                host: WWW.Example.com
                upstream: http://127.0.0.1:8001/assets/
                strip_prefix: true
                max_request_body: 1GiB
            timeouts:
              connect: 250ms
              response: 2m
              idle: 90s
              request_header: 5s
              drain: 1h
            limits:
              max_request_line: 4KiB
              max_header_size: 32768
              max_request_body: 10MiB
            workers: 4
            access_log:
              enabled: false
            """;

    private static final String MINIMAL = """
            listen: 127.0.0.1:8080
            routes:
              /: http://127.0.0.1:8000
            """;

    @Test
    void loadsTheFullLongFormWithEveryKey() {
        ProxyConfig config = YamlConfigLoader.parse(FULL, "full.yaml");

        assertThat(config.listen()).extracting(ListenerConfig::address)
                .containsExactly(new ListenAddress("127.0.0.1", 8080), new ListenAddress("::1", 8443));
        assertThat(config.routes()).containsExactly(
                new RouteConfig("/api", "", new UpstreamUrl("127.0.0.1", 8000, ""), false, RouteConfig.INHERIT),
                new RouteConfig("/static", "www.example.com", new UpstreamUrl("127.0.0.1", 8001, "/assets"), true,
                        1L << 30));
        assertThat(config.timeouts()).isEqualTo(new TimeoutsConfig(Duration.ofMillis(250), Duration.ofMinutes(2),
                Duration.ofSeconds(90), Duration.ofSeconds(5), Duration.ofHours(1)));
        assertThat(config.limits()).isEqualTo(new LimitsConfig(4096, 32768, 10L << 20));
        assertThat(config.workers()).isEqualTo(4);
        assertThat(config.accessLog()).isEqualTo(new AccessLogConfig(false));
    }

    @Test
    void acceptsTheShortFormOfRoutesInDocumentOrder() {
        ProxyConfig config = YamlConfigLoader.parse("""
                listen: 0.0.0.0:80
                routes: {/web: "http://localhost:8001", /api: "http://localhost:8000/v1"}
                """, "short.yaml");

        assertThat(config.routes()).containsExactly(
                RouteConfig.of("/web", "http://localhost:8001"), RouteConfig.of("/api", "http://localhost:8000/v1"));
    }

    @Test
    void appliesDefaultsWhenOptionalKeysAreAbsent() {
        ProxyConfig config = YamlConfigLoader.parse(MINIMAL, "minimal.yaml");

        assertThat(config.listen()).extracting(ListenerConfig::address).containsExactly(new ListenAddress("127.0.0.1", 8080));
        assertThat(config.timeouts()).isEqualTo(TimeoutsConfig.DEFAULTS);
        assertThat(config.limits()).isEqualTo(LimitsConfig.DEFAULTS);
        assertThat(config.workers()).isZero();
        assertThat(config.accessLog()).isEqualTo(AccessLogConfig.DEFAULTS);
    }

    @Test
    void appliesDefaultsForKeysAbsentFromAPresentSection() {
        ProxyConfig config = YamlConfigLoader.parse(MINIMAL + """
                timeouts: {connect: 1s}
                limits: {max_request_body: 1048576}
                access_log: {}
                """, "partial.yaml");

        assertThat(config.timeouts()).isEqualTo(new TimeoutsConfig(Duration.ofSeconds(1),
                TimeoutsConfig.DEFAULT_RESPONSE, TimeoutsConfig.DEFAULT_IDLE, TimeoutsConfig.DEFAULT_REQUEST_HEADER,
                TimeoutsConfig.DEFAULT_DRAIN));
        assertThat(config.limits()).isEqualTo(new LimitsConfig(LimitsConfig.DEFAULT_MAX_REQUEST_LINE,
                LimitsConfig.DEFAULT_MAX_HEADER_SIZE, 1048576));
        assertThat(config.accessLog()).isEqualTo(AccessLogConfig.DEFAULTS);
    }

    @Test
    void treatsAnEmptySectionAsAllDefaults() {
        ProxyConfig config = YamlConfigLoader.parse(MINIMAL + "timeouts:\nlimits:\n", "empty-sections.yaml");

        assertThat(config.timeouts()).isEqualTo(TimeoutsConfig.DEFAULTS);
        assertThat(config.limits()).isEqualTo(LimitsConfig.DEFAULTS);
    }

    @Test
    void readsTheAbuseLimits() {
        ProxyConfig config = YamlConfigLoader.parse(MINIMAL
                + "limits: {max_headers: 50, max_connections: 200, max_requests_per_connection: 10,"
                + " max_method_length: 12}\n", "abuse.yaml");

        assertThat(config.limits().maxHeaders()).isEqualTo(50);
        assertThat(config.limits().maxConnections()).isEqualTo(200);
        assertThat(config.limits().maxRequestsPerConnection()).isEqualTo(10);
        assertThat(config.limits().maxMethodLength()).isEqualTo(12);
        assertThat(config.limits().maxRequestLine()).isEqualTo(LimitsConfig.DEFAULT_MAX_REQUEST_LINE);
    }

    @Test
    void readsTheBufferedBytesBudget() {
        ProxyConfig config = YamlConfigLoader.parse(MINIMAL + "limits: {max_buffered_bytes: 16MiB}\n", "budget.yaml");

        assertThat(config.limits().maxBufferedBytes()).isEqualTo(16L << 20);
        assertThat(LimitsConfig.DEFAULTS.maxBufferedBytes()).isEqualTo(LimitsConfig.DEFAULT_MAX_BUFFERED_BYTES);
    }

    @Test
    void reportsEachAbuseLimitOutOfRangeUnderItsKey() {
        assertThat(problemsOf(MINIMAL + "limits: {max_headers: 0, max_connections: 1KiB}\n")).containsExactly(
                "limits.max_headers: must be between 1 and 1000000, got 0",
                "limits.max_connections: expected a whole number, got \"1KiB\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            proxy: 1                        | proxy: unknown key (known: listen, routes, upstreams, timeouts, limits, workers, access_log, http2, admin, request_id, tracing, reload, policies, default_policies, trusted_proxies, redis)
            timeouts: {conect: 5s}          | timeouts.conect: unknown key (known: connect, response, idle, request_header, drain, tls_handshake, tunnel_idle, drain_delay)
            limits: {max_body: 1}           | limits.max_body: unknown key (known: max_request_line, max_header_size, max_request_body, max_headers, max_connections, max_requests_per_connection, max_method_length, max_buffered_bytes)
            access_log: {file: /tmp/x}      | access_log.file: unknown key (known: enabled, format, path)
            tracing: {generate: true, export: otlp} | tracing.export: unknown key (known: generate, otlp, sampler, service_name)
            reload: {watch: true, on: hup}  | reload.on: unknown key (known: watch)
            """)
    void rejectsUnknownKeysWithTheirPath(String yaml, String problem) {
        assertThat(problemsOf(MINIMAL + yaml)).containsExactly(problem);
    }

    @Test
    void rejectsAnUnknownKeyInARoute() {
        assertThat(problemsOf("""
                listen: 127.0.0.1:8080
                routes:
                  - {path: /a, upstream: "http://h:1"}
                  - {path: /b, upstream: "http://h:2", strip: true}
                """)).containsExactly(
                        "routes[1].strip: unknown key (known: path, host, upstream, strip_prefix, max_request_body, upstream_tls, policies, skip_default_policies, grpc_web)");
    }

    @Test
    void reportsEveryProblemTogether() {
        List<String> problems = problemsOf("""
                listen: [127.0.0.1:8080, "localhost"]
                routes:
                  - path: /api
                    upstream: http://127.0.0.1:8000
                  - path: api
                    upstream: http://127.0.0.1:8001
                  - path: /x
                    upstream: htp://x
                    strip_prefix: yes
                timeouts:
                  connect: 5
                  idle: 0s
                limits:
                  max_request_line: 10
                  max_header_size: lots
                workers: -1
                """);

        assertThat(problems).containsExactly(
                "listen[1]: not host:port: \"localhost\"",
                "routes[1].path: path must start with \"/\": \"api\"",
                "routes[2].upstream: unsupported upstream scheme \"htp\" (only http and https): \"htp://x\"",
                "routes[2].strip_prefix: expected true or false, got \"yes\"",
                "timeouts.connect: 5 needs a unit, e.g. 5s",
                "timeouts.idle: must be positive, got \"0s\"",
                "limits.max_request_line: must be between 64 and 2147483647, got 10",
                "limits.max_header_size: not a size (use e.g. 8192, 64KiB, 10MiB, 1GiB): \"lots\"",
                "workers: must be between 0 (one per core) and 1024, got -1");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            htp://x                    | routes[0].upstream: unsupported upstream scheme "htp" (only http and https): "htp://x"
            http://example.com/?q=1    | routes[0].upstream: upstream URL may not have a query, fragment or user info: "http://example.com/?q=1"
            http://u:p@example.com     | routes[0].upstream: upstream URL may not have a query, fragment or user info: "http://u:p@example.com"
            localhost:8000             | routes[0].upstream: not a URL: "localhost:8000"
            http://example.com:0       | routes[0].upstream: upstream port must be between 1 and 65535, got 0
            'http://exa mple.com'      | routes[0].upstream: not a URL: "http://exa mple.com"
            """)
    void rejectsBadUpstreamUrls(String url, String problem) {
        assertThat(problemsOf("listen: 127.0.0.1:8080\nroutes:\n  - path: /\n    upstream: '" + url + "'\n"))
                .containsExactly(problem);
    }

    @Test
    void namesTheShortFormKeyInUpstreamProblems() {
        assertThat(problemsOf("listen: 127.0.0.1:8080\nroutes: {/api: \"htp://x\", web: \"http://h\"}\n"))
                .containsExactly("routes./api: unsupported upstream scheme \"htp\" (only http and https): \"htp://x\"",
                        "routes.web: path must start with \"/\": \"web\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            30                     | timeouts.connect: 30 needs a unit, e.g. 5s
            30 sec                 | timeouts.connect: not a duration (use e.g. 250ms, 2s, 1m, 1h): "30 sec"
            1.5s                   | timeouts.connect: not a duration (use e.g. 250ms, 2s, 1m, 1h): "1.5s"
            -1s                    | timeouts.connect: not a duration (use e.g. 250ms, 2s, 1m, 1h): "-1s"
            0ms                    | timeouts.connect: must be positive, got "0ms"
            9999999999999999h      | timeouts.connect: duration out of range: "9999999999999999h"
            99999999999999999999s  | timeouts.connect: duration out of range: "99999999999999999999s"
            true                   | timeouts.connect: expected a duration such as 5s, got true
            """)
    void rejectsBadDurations(String value, String problem) {
        assertThat(problemsOf(MINIMAL + "timeouts:\n  connect: " + value + "\n")).containsExactly(problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            1.5MiB                 | limits.max_request_body: not a size (use e.g. 8192, 64KiB, 10MiB, 1GiB): "1.5MiB"
            10TiB                  | limits.max_request_body: not a size (use e.g. 8192, 64KiB, 10MiB, 1GiB): "10TiB"
            -1                     | limits.max_request_body: not a size (use e.g. 8192, 64KiB, 10MiB, 1GiB): "-1"
            99999999999GiB         | limits.max_request_body: size out of range: "99999999999GiB"
            99999999999999999999   | limits.max_request_body: size out of range: "99999999999999999999"
            [1]                    | limits.max_request_body: expected a size such as 64KiB, got a list
            """)
    void rejectsBadSizes(String value, String problem) {
        assertThat(problemsOf(MINIMAL + "limits:\n  max_request_body: " + value + "\n")).containsExactly(problem);
    }

    @Test
    void rejectsAHeadLimitTooSmallForAnyRequest() {
        assertThat(problemsOf(MINIMAL + "limits: {max_header_size: 100}\n"))
                .containsExactly("limits.max_header_size: must be between 256 and 2147483647, got 100");
    }

    @Test
    void reportsADuplicateRouteUnderItsIndex() {
        assertThat(problemsOf("""
                listen: 127.0.0.1:8080
                routes:
                  - {path: /api, upstream: "http://h:1"}
                  - {path: /api, host: example.com, upstream: "http://h:2"}
                  - {path: /api/, upstream: "http://h:3"}
                """)).containsExactly("routes[2]: path /api is routed twice");
    }

    @Test
    void reportsAShortFormDuplicateUnderItsKey() {
        assertThat(problemsOf("listen: 127.0.0.1:8080\nroutes: {/api: \"http://h:1\", /api/: \"http://h:2\"}\n"))
                .containsExactly("routes./api/: path /api is routed twice");
    }

    @Test
    void reportsAListenAddressGivenTwice() {
        assertThat(problemsOf("listen: [127.0.0.1:8080, 127.0.0.1:8080]\nroutes: {/: \"http://h\"}\n"))
                .containsExactly("listen[1]: 127.0.0.1:8080 is listed twice");
    }

    @Test
    void requiresListenAndRoutes() {
        assertThat(problemsOf("workers: 2\n")).containsExactly(
                "listen: is required (host:port or a list of them)", "routes: is required (a list of routes)");
    }

    @Test
    void requiresAtLeastOneListenAddressAndRoute() {
        assertThat(problemsOf("listen: []\nroutes: []\n")).containsExactly(
                "listen: at least one address is required", "routes: at least one route is required");
    }

    @Test
    void requiresPathAndUpstreamInALongFormRoute() {
        assertThat(problemsOf("listen: 127.0.0.1:8080\nroutes:\n  - host: example.com\n"))
                .containsExactly("routes[0].path: is required", "routes[0].upstream: is required");
    }

    @Test
    void doesNotAddCrossChecksForASectionThatAlreadyFailed() {
        assertThat(problemsOf("listen: [8080]\nroutes:\n  - {path: /, upstream: 'ftp://h'}\n")).containsExactly(
                "listen[0]: expected host:port or a mapping with address, got 8080",
                "routes[0].upstream: unsupported upstream scheme \"ftp\" (only http and https): \"ftp://h\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            listen: {address: 8080}   | listen.address: expected host:port, got 8080
            routes: /api               | routes: expected a list of routes or a mapping of path to upstream URL, got "/api"
            routes: [http://h]         | routes[0]: expected a mapping, got "http://h"
            routes: {/a: {u: 1}}      | routes./a: expected an upstream name, URL or list of URLs, got a mapping
            timeouts: [5s]             | timeouts: expected a mapping, got a list
            limits: 1MiB               | limits: expected a mapping, got "1MiB"
            workers: four              | workers: expected a whole number, got "four"
            workers: 2.5               | workers: expected a whole number, got 2.5
            workers:                   | workers: expected a whole number, got nothing
            access_log: {enabled: on}  | access_log.enabled: expected true or false, got "on"
            access_log: true           | access_log: expected a mapping, got true
            """)
    void rejectsValuesOfTheWrongType(String line, String problem) {
        String yaml = line.startsWith("listen") ? line + "\nroutes: {/: \"http://h\"}\n"
                : line.startsWith("routes") ? "listen: 127.0.0.1:8080\n" + line + "\n" : MINIMAL + line + "\n";

        assertThat(problemsOf(yaml)).containsExactly(problem);
    }

    @Test
    void rejectsANonBooleanStripPrefix() {
        assertThat(problemsOf("listen: 127.0.0.1:8080\nroutes:\n  - {path: /, upstream: 'http://h', strip_prefix: yes}\n"))
                .containsExactly("routes[0].strip_prefix: expected true or false, got \"yes\"");
    }

    @Test
    void rejectsAMappingThatIsNotTheTopLevel() {
        assertThat(problemsOf("- listen\n- routes\n")).containsExactly("expected a mapping at the top level, got a list");
    }

    @Test
    void reportsAYamlSyntaxErrorWithItsLineAndColumn() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> YamlConfigLoader.parse("listen: 127.0.0.1:8080\nroutes:\n  a: b\n    c: d\n", "bad.yaml"));

        assertThat(e.problems()).containsExactly("line 4, column 6: mapping values are not allowed here");
        assertThat(e.getMessage()).contains("bad.yaml").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void rejectsADuplicateYamlKey() {
        assertThat(problemsOf("listen: 127.0.0.1:8080\nlisten: 127.0.0.1:8081\nroutes: {/: \"http://h\"}\n"))
                .singleElement().asString().startsWith("line 2, column 1: found duplicate key listen");
    }

    @Test
    void reportsAFailedTagConversionWithoutAStackTrace() {
        assertThat(problemsOf("listen: !!int abc\n")).containsExactly("not valid YAML: For input string: \"abc\"");
    }

    @Test
    void rejectsCollectionsNestedTooDeeplyWithoutCrashing() {
        assertThat(problemsOf("listen: " + "[".repeat(100_000)))
                .containsExactly("not valid YAML: collections nested too deeply");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "# only a comment\n", "---\n"})
    void rejectsAnEmptyDocument(String yaml) {
        assertThat(problemsOf(yaml)).containsExactly("empty configuration: listen and routes are required");
    }

    @Test
    void namesTheSourceInTheExceptionMessage() {
        assertThatThrownBy(() -> YamlConfigLoader.parse("listen: 127.0.0.1:8080\n", "/etc/portico/portico.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("/etc/portico/portico.yaml: routes: is required");
    }

    @Test
    void loadsARealFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("portico.yaml"), FULL);

        assertThat(YamlConfigLoader.load(file)).isEqualTo(YamlConfigLoader.parse(FULL, "inline"));
    }

    @Test
    void namesAFileInItsProblems(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("portico.yaml"), "listen: 127.0.0.1:8080\n");

        assertThatThrownBy(() -> YamlConfigLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(file + ": routes: is required");
    }

    @Test
    void readsAFileStartingWithAByteOrderMark(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("bom.yaml"), "\uFEFF" + MINIMAL);

        assertThat(YamlConfigLoader.load(file)).isEqualTo(YamlConfigLoader.parse(MINIMAL, "inline"));
    }

    @Test
    void reportsAFileThatIsNotUtf8(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("latin1.yaml"), "listen: caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));

        assertThat(catchThrowableOfType(ConfigException.class, () -> YamlConfigLoader.load(file)).problems())
                .containsExactly("cannot read file: not UTF-8 text");
    }

    @Test
    void reportsAMissingFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> YamlConfigLoader.load(missing));

        assertThat(e.problems()).containsExactly("cannot read file: No such file");
        assertThat(e.getMessage()).contains(missing.toString());
    }

    @Test
    void reportsADirectoryAsUnreadable(@TempDir Path dir) {
        assertThatThrownBy(() -> YamlConfigLoader.load(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(dir + ": cannot read file: ");
    }

    @Test
    void isReachableThroughProxyConfig() {
        assertThat(ProxyConfig.parse(MINIMAL, "x")).isEqualTo(YamlConfigLoader.parse(MINIMAL, "y"));
    }

    private static List<String> problemsOf(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> YamlConfigLoader.parse(yaml, "test.yaml"));
        assertThat(e).as("ConfigException for:%n%s", yaml).isNotNull();
        return e.problems();
    }
}
