package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.internal.ops.AdminPasswords.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Password checks against hashes made by other implementations, remembered matches, and a bounded queue. */
class AdminPasswordsTest {
    /** From the crypt_blowfish test vectors (Openwall). */
    private static final String BCRYPT_U_U = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    /** The argon2-cffi documentation's example, of "correct horse battery staple". */
    private static final String ARGON2ID = "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$"
            + "YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg";

    @Test
    void matchesHashesMadeElsewhereAndNothingElse() {
        assertThat(AdminPasswords.matches(BCRYPT_U_U, "U*U")).isTrue();
        assertThat(AdminPasswords.matches(BCRYPT_U_U, "U*U*")).isFalse();
        assertThat(AdminPasswords.matches(BCRYPT_U_U.replace("$2a$", "$2b$"), "U*U")).isTrue();
        assertThat(AdminPasswords.matches(ARGON2ID, "correct horse battery staple")).isTrue();
        assertThat(AdminPasswords.matches(ARGON2ID, "correct horse battery stapler")).isFalse();
        assertThat(AdminPasswords.matches("$argon2id$v=19$m=8,t=1,p=1$!!!$!!!", "x")).isFalse();
        assertThat(AdminPasswords.matches(Hashes.bcrypt("x".repeat(100)), "y".repeat(100))).isFalse();
    }

    @Test
    @Timeout(30)
    void aMatchIsRememberedAndAMismatchIsNot() throws Exception {
        try (AdminPasswords passwords = new AdminPasswords()) {
            assertThat(passwords.check("u", BCRYPT_U_U, "U*U").get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.MATCH);
            CompletableFuture<Outcome> again = passwords.check("u", BCRYPT_U_U, "U*U");
            assertThat(again).isCompletedWithValue(Outcome.MATCH);
            assertThat(passwords.check("u", BCRYPT_U_U, "nope").get(10, TimeUnit.SECONDS))
                    .isEqualTo(Outcome.MISMATCH);
            assertThat(passwords.check("v", BCRYPT_U_U, "U*U")).as("remembered per user").isNotDone();
        }
    }

    @Test
    @Timeout(60)
    void aFloodOfGuessesIsRefusedRatherThanQueued() throws Exception {
        try (AdminPasswords passwords = new AdminPasswords()) {
            String hash = Hashes.argon2id("secret");
            List<CompletableFuture<Outcome>> checks = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                checks.add(passwords.check("u", hash, "guess " + i));
            }
            CompletableFuture.allOf(checks.toArray(new CompletableFuture[0])).get(50, TimeUnit.SECONDS);

            assertThat(checks).extracting(CompletableFuture::join).contains(Outcome.BUSY)
                    .doesNotContain(Outcome.MATCH);
        }
    }
}
