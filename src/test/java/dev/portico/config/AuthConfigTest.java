package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.jwk.RSAKey;
import dev.portico.testing.AuthFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The basic_auth and jwt sections: what they accept, their defaults, and the problems they report. */
class AuthConfigTest {
    @TempDir
    Path dir;

    private ProxyConfig parse(String policy) {
        return YamlConfigLoader.parse("listen: 127.0.0.1:8080\npolicies:\n  p:\n" + policy.indent(4)
                + "routes:\n  - {path: /, upstream: http://127.0.0.1:9000, policies: [p]}\n", "auth.yaml", dir);
    }

    private PolicyConfig policy(String policy) {
        return parse(policy).routes().get(0).policies().get(0);
    }

    private List<String> problems(String policy) {
        return catchThrowableOfType(ConfigException.class, () -> parse(policy)).problems();
    }

    @Test
    void basicAuthReadsInlineHashesAndAnHtpasswdFileWithDefaults() throws Exception {
        String bob = AuthFixtures.argon2id("b");
        Files.writeString(dir.resolve("users.htpasswd"), "# team\ncarol:" + AuthFixtures.bcrypt("c", 4) + "\n\n");
        BasicAuthPolicyConfig c = (BasicAuthPolicyConfig) policy("basic_auth:\n  users: {alice: \"$2y$04$"
                + ".".repeat(53) + "\", bob: \"" + bob + "\"}\n  users_file: users.htpasswd\n");
        assertThat(c.realm()).isEqualTo("portico");
        assertThat(c.removeCredentials()).isFalse();
        assertThat(c.allUsers()).containsOnlyKeys("alice", "bob", "carol");
        assertThat(c.usersFile().path()).isEqualTo(dir.resolve("users.htpasswd"));
    }

    @Test
    void plainTextPasswordsAndUnknownHashSchemesAreConfigErrors() {
        assertThat(problems("basic_auth: {users: {alice: secret}}")).singleElement().asString()
                .startsWith("policies.p.basic_auth.users: alice: not a bcrypt or argon2id hash");
        assertThat(problems("basic_auth: {users: {alice: \"$apr1$abc$def\"}}")).singleElement().asString()
                .contains("plain-text passwords and other schemes are refused");
        assertThat(problems("basic_auth: {users: {alice: \"$2y$10$short\"}}")).singleElement().asString()
                .contains("malformed hash");
        assertThat(problems("basic_auth: {realm: portico}")).containsExactly(
                "policies.p.basic_auth: needs users or users_file");
        assertThat(problems("basic_auth: {users_file: missing.htpasswd}")).singleElement().asString()
                .startsWith("policies.p.basic_auth.users_file: cannot read").endsWith("No such file");
    }

    @Test
    void aBadHtpasswdLineIsReportedWithItsNumber() throws Exception {
        Files.writeString(dir.resolve("u"), "alice:" + AuthFixtures.bcrypt("a", 4) + "\nbob:hunter2\n");
        assertThat(problems("basic_auth: {users_file: u}")).singleElement().asString()
                .startsWith("policies.p.basic_auth.users_file: " + dir.resolve("u") + " line 2: user bob: not a");
    }

    @Test
    void aChangedUsersFileMakesAnUnequalRecordSoAReloadReplacesThePolicy() throws Exception {
        Path file = dir.resolve("u");
        Files.writeString(file, "alice:" + AuthFixtures.bcrypt("a", 4) + "\n");
        PolicyConfig before = policy("basic_auth: {users_file: u}");
        assertThat(policy("basic_auth: {users_file: u}")).isEqualTo(before);
        Files.writeString(file, "alice:" + AuthFixtures.bcrypt("new", 4) + "\n");
        assertThat(policy("basic_auth: {users_file: u}")).isNotEqualTo(before);
    }

    @Test
    void jwtDefaultsAndEveryKey() throws Exception {
        JwtPolicyConfig c = (JwtPolicyConfig) policy("""
                jwt:
                  jwks_url: https://idp.example/.well-known/jwks.json
                  issuer: https://idp.example/
                  audiences: [api]
                  required_claims: [sub]
                  token_from: cookie:session
                  forward_claims: {sub: X-User-Id, email: X-User-Email}
                  jwks_timeout: 500ms
                """);
        assertThat(c.algorithms()).containsExactly("RS256", "ES256");
        assertThat(c.leeway()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.tokenFromKind()).isEqualTo("cookie");
        assertThat(c.tokenFromName()).isEqualTo("session");
        assertThat(c.forwardClaims()).containsEntry("sub", "X-User-Id");
        assertThat(c.jwksTimeout()).isEqualTo(Duration.ofMillis(500));
        JwtPolicyConfig d = (JwtPolicyConfig) policy("jwt: {jwks_url: http://127.0.0.1:1/jwks}");
        assertThat(d.tokenFrom()).isEqualTo("header:Authorization");
        assertThat(d.issuer()).isEmpty();
    }

    @Test
    void algNoneHmacWithoutASecretAndMismatchedKeysAreRefused() throws Exception {
        assertThat(problems("jwt: {jwks_url: https://idp/jwks, algorithms: [none]}")).singleElement().asString()
                .startsWith("policies.p.jwt.algorithms: none is never accepted");
        assertThat(problems("jwt: {jwks_url: https://idp/jwks, algorithms: [RS256, HS256]}")).singleElement()
                .asString().startsWith("policies.p.jwt.algorithms: HS256 needs secret_file");
        Files.writeString(dir.resolve("secret"), "0123456789abcdef0123456789abcdef\n");
        assertThat(problems("jwt: {secret_file: secret, algorithms: [RS256]}")).singleElement().asString()
                .startsWith("policies.p.jwt.algorithms: RS256 does not go with secret_file");
        assertThat(((JwtPolicyConfig) policy("jwt: {secret_file: secret}")).algorithms()).containsExactly("HS256");
        Files.writeString(dir.resolve("short"), "too short\n");
        assertThat(problems("jwt: {secret_file: short}")).singleElement().asString()
                .contains("the secret must be at least 32 bytes");
        RSAKey rsa = AuthFixtures.rsa("k");
        Files.writeString(dir.resolve("key.pem"), "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder()
                .encodeToString(rsa.toPublicKey().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        assertThat(problems("jwt: {key: key.pem, algorithms: [ES256]}")).singleElement().asString()
                .startsWith("policies.p.jwt.algorithms: ES256 cannot be verified with the RSA key");
        assertThat(((JwtPolicyConfig) policy("jwt: {key: key.pem, algorithms: [RS256, PS256]}")).key().text())
                .contains("BEGIN PUBLIC KEY");
    }

    @Test
    void keySourcesTokenPlacesAndForwardedHeadersAreChecked() throws Exception {
        assertThat(problems("jwt: {issuer: x}")).singleElement().asString()
                .startsWith("policies.p.jwt: needs exactly one of jwks_url, jwks_file, key and secret_file, got 0");
        Files.writeString(dir.resolve("jwks.json"), AuthFixtures.jwks(AuthFixtures.ec("e").toPublicJWK()));
        assertThat(problems("jwt: {jwks_url: https://idp/jwks, jwks_file: jwks.json}")).singleElement().asString()
                .endsWith("got 2");
        Files.writeString(dir.resolve("garbage.json"), "{\"keys\": 3}");
        assertThat(problems("jwt: {jwks_file: garbage.json}")).singleElement().asString()
                .startsWith("policies.p.jwt.jwks_file: " + dir.resolve("garbage.json") + ": not a JWK set");
        assertThat(problems("jwt: {jwks_url: ftp://idp/jwks}")).singleElement().asString()
                .startsWith("policies.p.jwt.jwks_url: must be an http or https URL");
        assertThat(problems("jwt: {jwks_file: jwks.json, token_from: body:x}")).singleElement().asString()
                .startsWith("policies.p.jwt.token_from: must be header:NAME, cookie:NAME or query:NAME");
        assertThat(problems("jwt: {jwks_file: jwks.json, forward_claims: {sub: Content-Length}}")).singleElement()
                .asString().startsWith("policies.p.jwt.forward_claims.sub: Content-Length is a hop-by-hop");
        assertThat(problems("jwt: {jwks_file: jwks.json, leeway: -1s}")).isNotEmpty();
    }

    @Test
    void aChangedKeyFileMakesAnUnequalRecordAndToStringHidesSecrets() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "0123456789abcdef0123456789abcdef");
        JwtPolicyConfig before = JwtPolicyConfig.secretFile(secret).build();
        assertThat(before).isEqualTo(JwtPolicyConfig.secretFile(secret).build());
        assertThat(before.toString()).doesNotContain("0123456789abcdef");
        Files.writeString(secret, "fedcba9876543210fedcba9876543210");
        assertThat(JwtPolicyConfig.secretFile(secret).build()).isNotEqualTo(before);
    }

    @Test
    void buildersValidateLikeTheLoader() {
        assertThatThrownBy(() -> BasicAuthPolicyConfig.builder().user("alice", "plain").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a bcrypt or argon2id hash");
        assertThatThrownBy(() -> BasicAuthPolicyConfig.builder().realm("a\"b").user("a", "$2y$04$" + ".".repeat(53))
                .build()).hasMessageStartingWith("realm must be");
        assertThatThrownBy(() -> JwtPolicyConfig.jwksUrl(java.net.URI.create("https://idp/jwks")).algorithms("none")
                .build()).hasMessageContaining("none is never accepted");
    }
}
