package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.testing.AuthFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GET /config never shows password hashes, secrets or the contents of files read into the configuration. */
class AuthConfigJsonTest {
    @TempDir
    Path dir;

    @Test
    void passwordHashesSecretsAndFileContentsAreNotShown() throws Exception {
        String hash = AuthFixtures.bcrypt("pw", 4);
        Path users = dir.resolve("users");
        String fileHash = AuthFixtures.bcrypt("other", 4);
        Files.writeString(users, "bob:" + fileHash + "\n");
        String basic = ConfigJson.of(BasicAuthPolicyConfig.builder().user("alice", hash).usersFile(users).build());
        assertThat(basic).contains("\"alice\":\"<redacted>\"").contains("\"path\":\"" + users + "\"")
                .contains("\"sha256\":").doesNotContain(hash).doesNotContain(fileHash);

        Path secret = dir.resolve("secret");
        Files.writeString(secret, "0123456789abcdef0123456789abcdef");
        String jwt = ConfigJson.of(JwtPolicyConfig.secretFile(secret).build());
        assertThat(jwt).contains("\"secret_file\":\"<redacted>\"").doesNotContain("0123456789abcdef");
    }
}
