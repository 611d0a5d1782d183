package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.internal.ops.AdminPasswords.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
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
    void aMatchIsRememberedAndAMismatchIsNot() {
        List<Runnable> queued = new ArrayList<>();
        try (AdminPasswords passwords = new AdminPasswords(queued::add)) {
            CompletableFuture<Outcome> first = passwords.check("u", BCRYPT_U_U, "U*U");
            assertThat(first).as("hashed, not answered at once").isNotDone();
            runAll(queued);
            assertThat(first).isCompletedWithValue(Outcome.MATCH);

            assertThat(passwords.check("u", BCRYPT_U_U, "U*U")).as("remembered").isCompletedWithValue(Outcome.MATCH);
            assertThat(queued).as("nothing hashed for a remembered match").isEmpty();

            CompletableFuture<Outcome> wrong = passwords.check("u", BCRYPT_U_U, "nope");
            CompletableFuture<Outcome> otherUser = passwords.check("v", BCRYPT_U_U, "U*U");
            assertThat(wrong).isNotDone();
            assertThat(otherUser).as("remembered per user").isNotDone();
            assertThat(queued).hasSize(2);
            runAll(queued);
            assertThat(wrong).isCompletedWithValue(Outcome.MISMATCH);
            assertThat(otherUser).isCompletedWithValue(Outcome.MATCH);
            assertThat(passwords.check("u", BCRYPT_U_U, "nope")).as("a mismatch is not remembered").isNotDone();
        }
    }

    @Test
    @Timeout(30)
    void aMatchIsRememberedOnTheHashingThreadToo() throws Exception {
        try (AdminPasswords passwords = new AdminPasswords()) {
            assertThat(passwords.check("u", BCRYPT_U_U, "U*U").get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.MATCH);
            assertThat(passwords.check("u", BCRYPT_U_U, "U*U")).isCompletedWithValue(Outcome.MATCH);
        }
    }

    @Test
    @Timeout(30)
    void aRefusingExecutorAnswersBusy() {
        try (AdminPasswords passwords = new AdminPasswords(task -> {
            throw new RejectedExecutionException("full");
        })) {
            assertThat(passwords.check("u", BCRYPT_U_U, "U*U")).isCompletedWithValue(Outcome.BUSY);
        }
    }

    private static void runAll(List<Runnable> queued) {
        List<Runnable> now = new ArrayList<>(queued);
        queued.clear();
        now.forEach(Runnable::run);
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
