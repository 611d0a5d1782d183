package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The admin endpoint's protection keys: admin.auth, admin.tls, admin.insecure, and the loopback rule. */
class AdminConfigTest {
    private static final String MINIMAL = "listen: 127.0.0.1:8080\nroutes: {/: \"http://127.0.0.1:8000\"}\n";
    private static final String BCRYPT = "$2y$04$abcdefghijklmnopqrstuuJxJ0C2T3b1gBx1lZfGo8SgRrI4mmXDe";
    private static final String ARGON = "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
            + "qLml5cu0Ci2+eT8hDu94xHr8c1VVV+bGMWFfMmJEyjw";

    @TempDir
    Path dir;

    private ProxyConfig parse(String yaml) {
        return YamlConfigLoader.parse(MINIMAL + yaml, "admin.yaml", dir);
    }

    private List<String> problemsOf(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
        assertThat(e).as("ConfigException for:%n%s", yaml).isNotNull();
        assertThat(e.getMessage()).contains("admin.yaml: ");
        return e.problems();
    }

    @Test
    void readsTheTokenFileUsersAndProtectMetrics() throws Exception {
        Files.writeString(dir.resolve("admin.token"), "  0123456789abcdef0123  \n");
        AdminConfig a = parse("admin:\n  listen: 0.0.0.0:9901\n  auth:\n    token_file: admin.token\n"
                + "    users: {alice: \"" + BCRYPT + "\", bob: \"" + ARGON + "\"}\n    protect_metrics: true\n")
                .operations().admin();

        assertThat(a.auth().tokenFile()).isEqualTo(dir.resolve("admin.token"));
        assertThat(a.auth().token()).isEqualTo("0123456789abcdef0123");
        assertThat(a.auth().users()).containsEntry("alice", BCRYPT).containsEntry("bob", ARGON);
        assertThat(a.auth().protectMetrics()).isTrue();
        assertThat(a.insecure()).isFalse();
    }

    @Test
    void anAdminEndpointOffLoopbackWithoutAuthIsAConfigurationErrorUnlessInsecure() {
        assertThat(problemsOf("admin: {listen: 0.0.0.0:9901}\n")).singleElement().asString()
                .startsWith("admin.auth: is required when admin.listen (0.0.0.0:9901) is not a loopback address")
                .contains("admin.insecure: true");
        assertThat(parse("admin: {listen: 0.0.0.0:9901, insecure: true}\n").operations().admin().insecure())
                .isTrue();
        assertThat(parse("admin: {listen: \"[::1]:9901\"}\n").operations().adminListen().port()).isEqualTo(9901);
        assertThat(parse("admin: {listen: localhost:9901}\n").operations().adminListen().port()).isEqualTo(9901);
        assertThat(parse("admin: {listen: 127.0.0.2:9901}\n").operations().adminListen().port()).isEqualTo(9901);
        assertThatThrownBy(() -> OperationsConfig.builder().adminListen("10.0.0.1:9901").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auth is required");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            auth: {}                                   | admin.auth: needs token_file or users (or both)
            auth: {token_file: missing.token}          | admin.auth.token_file: cannot read
            auth: {users: {alice: secret}}             | admin.auth.users.alice: not a bcrypt ($2a$, $2b$, $2y$) or argon2id
            auth: {users: [alice]}                     | admin.auth.users: expected a mapping of user name to bcrypt or argon2id hash, got
            auth: {protect_metrics: maybe, users: {}}  | admin.auth.protect_metrics: expected true or false, got "maybe"
            auth: {password: x}                        | admin.auth.password: unknown key (known: token_file, users, protect_metrics)
            insecure: yes                              | admin.insecure: expected true or false, got "yes"
            tls: {certificate: nope.pem, key: nope.key} | admin.tls.certificate: cannot read
            """)
    void namesFileKeyAndProblem(String yaml, String problem) {
        assertThat(problemsOf("admin:\n  listen: 127.0.0.1:9901\n  " + yaml + "\n")).anySatisfy(p ->
                assertThat(p).startsWith(problem));
    }

    @Test
    void anArgon2idHashThatWouldTakeTooMuchHeapIsRefused() {
        String greedy = ARGON.replace("m=1024,", "m=1048576,");

        assertThat(problemsOf("admin:\n  listen: 127.0.0.1:9901\n  auth: {users: {a: \"" + greedy + "\"}}\n"))
                .containsExactly("admin.auth.users.a: asks argon2id for m=1048576 KiB of memory per check; at most "
                        + "131072 is accepted");
    }

    @Test
    void aShortTokenIsRefused() throws Exception {
        Files.writeString(dir.resolve("short.token"), "abc\n");

        assertThat(problemsOf("admin:\n  listen: 127.0.0.1:9901\n  auth: {token_file: short.token}\n"))
                .singleElement().asString().startsWith("admin.auth.token_file: ").contains("at least 16");
    }

    @Test
    void buildersMakeWhatTheYamlMakes() throws Exception {
        Path token = dir.resolve("t");
        Files.writeString(token, "0123456789abcdef0123");
        OperationsConfig built = OperationsConfig.builder().adminListen("0.0.0.0:9901")
                .admin(a -> a.auth(u -> u.tokenFile(token).user("alice", BCRYPT).protectMetrics(true))).build();

        assertThat(built).isEqualTo(parse("admin:\n  listen: 0.0.0.0:9901\n  auth: {token_file: t, users: {alice: \""
                + BCRYPT + "\"}, protect_metrics: true}\n").operations());
        assertThat(AdminAuthConfig.isHash(BCRYPT)).isTrue();
        assertThat(AdminAuthConfig.isHash(ARGON)).isTrue();
        assertThat(AdminAuthConfig.isHash("$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"))
                .isFalse();
    }
}
