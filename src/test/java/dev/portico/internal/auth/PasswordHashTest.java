package dev.portico.internal.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portico.testing.AuthFixtures;
import org.junit.jupiter.api.Test;

class PasswordHashTest {
    @Test
    void bcryptVariantsAndArgon2idMatchTheirPasswordOnly() {
        String b = AuthFixtures.bcrypt("pässword", 4);
        for (String variant : new String[] {"$2a$", "$2b$", "$2y$"}) {
            PasswordHash h = PasswordHash.parse(variant + b.substring(4));
            assertThat(h.matches("pässword")).isTrue();
            assertThat(h.matches("password")).isFalse();
        }
        PasswordHash a = PasswordHash.parse(AuthFixtures.argon2id("s3cret"));
        assertThat(a.matches("s3cret")).isTrue();
        assertThat(a.matches("s3cret ")).isFalse();
    }

    @Test
    void aDecoyHasTheSameSchemeAndCostAndMatchesNothing() {
        PasswordHash b = PasswordHash.parse(AuthFixtures.bcrypt("x", 5));
        assertThat(b.decoy().toString()).isEqualTo("bcrypt cost 5");
        assertThat(b.decoy().matches("x")).isFalse();
        PasswordHash a = PasswordHash.parse(AuthFixtures.argon2id("x"));
        assertThat(a.decoy().toString()).isEqualTo(a.toString());
        assertThat(a.decoy().matches("x")).isFalse();
    }

    @Test
    void plainTextOtherSchemesAndAbsurdParametersAreRefused() {
        assertThatThrownBy(() -> PasswordHash.parse("hunter2")).hasMessageContaining("plain-text");
        assertThatThrownBy(() -> PasswordHash.parse("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")).hasMessageContaining(
                "plain-text passwords and other schemes");
        assertThatThrownBy(() -> PasswordHash.parse("$2y$03$" + ".".repeat(53))).hasMessageContaining("cost");
        assertThatThrownBy(() -> PasswordHash.parse("$argon2i$v=19$m=4096,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"))
                .hasMessageContaining("malformed hash");
        assertThatThrownBy(() -> PasswordHash.parse("$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$"
                + "aGFzaGhhc2hoYXNoaGFzaA")).hasMessageContaining("out of range");
    }
}
