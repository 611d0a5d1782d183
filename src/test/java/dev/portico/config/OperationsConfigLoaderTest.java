package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portico.config.AccessLogConfig.Format;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The operations keys: access_log, admin, request_id, tracing, reload, timeouts.drain_delay. */
class OperationsConfigLoaderTest {
    private static final String MINIMAL = "listen: 127.0.0.1:8080\nroutes: {/: \"http://127.0.0.1:8000\"}\n";

    @Test
    void loadsEveryOperationsKey() {
        ProxyConfig c = YamlConfigLoader.parse(MINIMAL + """
                access_log: {enabled: true, format: json, path: /var/log/portico/access.log}
                admin: {listen: 127.0.0.1:9901}
                request_id: {enabled: true, header: X-Correlation-Id}
                tracing: {generate: true}
                reload: {watch: true}
                timeouts: {drain: 20s, drain_delay: 5s}
                """, "ops.yaml");

        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig(true, Format.JSON, "/var/log/portico/access.log"));
        assertThat(c.operations()).isEqualTo(new OperationsConfig(new ListenAddress("127.0.0.1", 9901), true,
                "X-Correlation-Id", true, true));
        assertThat(c.timeouts().drain()).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.timeouts().drainDelay()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void defaultsToNoAdminCombinedStdoutRequestIdsAndNoDelay() {
        ProxyConfig c = YamlConfigLoader.parse(MINIMAL + "access_log: {}\nrequest_id: {}\n", "ops.yaml");

        assertThat(c.accessLog()).isEqualTo(AccessLogConfig.DEFAULTS);
        assertThat(c.accessLog().toStdout()).isTrue();
        assertThat(c.operations()).isEqualTo(OperationsConfig.DEFAULTS);
        assertThat(c.operations().adminListen()).isNull();
        assertThat(c.timeouts().drainDelay()).isZero();
        assertThat(YamlConfigLoader.parse(MINIMAL + "timeouts: {drain_delay: 0s}\n", "x").timeouts().drainDelay())
                .isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            access_log: {format: clf}          | access_log.format: expected combined or json, got "clf"
            access_log: {path: ''}             | access_log.path: is empty (use stdout or a file path)
            access_log: {path: 3}              | access_log.path: expected stdout or a file path, got 3
            admin: {listen: 9901}              | admin.listen: expected host:port, got 9901
            admin: {}                          | admin.listen: is required in an admin section (host:port)
            request_id: {header: 'X Id'}       | request_id.header: not a valid header field name: "X Id"
            request_id: {enabled: yes}         | request_id.enabled: expected true or false, got "yes"
            tracing: {generate: 1}             | tracing.generate: expected true or false, got 1
            reload: {watch: always}            | reload.watch: expected true or false, got "always"
            reload: true                       | reload: expected a mapping, got true
            timeouts: {drain_delay: 5}         | timeouts.drain_delay: expected a duration such as 5s, got 5
            timeouts: {drain_delay: soon}      | timeouts.drain_delay: not a duration (use e.g. 250ms, 2s, 1m, 1h): "soon"
            """)
    void namesTheKeyPathOfEachBadValue(String yaml, String problem) {
        assertThat(problemsOf(MINIMAL + yaml + "\n")).containsExactly(problem);
    }

    @Test
    void reportsProblemsInSeveralSectionsTogether() {
        assertThat(problemsOf(MINIMAL + "access_log: {format: xml}\nadmin: {listen: nowhere}\ntracing: {on: 1}\n"))
                .containsExactly("access_log.format: expected combined or json, got \"xml\"",
                        "admin.listen: not host:port: \"nowhere\"",
                        "tracing.on: unknown key (known: generate, otlp, sampler, service_name)");
    }

    private static List<String> problemsOf(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> YamlConfigLoader.parse(yaml, "t.yaml"));
        assertThat(e).as("ConfigException for:%n%s", yaml).isNotNull();
        return e.problems();
    }
}
