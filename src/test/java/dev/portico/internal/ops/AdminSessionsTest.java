package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.AdminAuthConfig;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The login form's sessions: random ids, idle and absolute expiry on a clock of the test's, the bound. */
class AdminSessionsTest {
    private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AdminSessions sessions = new AdminSessions(now::get, 30 * MINUTE, 12 * 60 * MINUTE, 1000);
    private final AdminAuthConfig auth = auth(Hashes.bcrypt("pw"));

    private static AdminAuthConfig auth(String hash) {
        return new AdminAuthConfig(null, null, Map.of("ops", hash), false);
    }

    @Test
    void idsAre256RandomBitsInBase64url() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String id = sessions.open("ops", auth);
            assertThat(id).matches("[A-Za-z0-9_-]{43}");
            ids.add(id);
        }
        assertThat(ids).hasSize(200);
        assertThat(sessions.user(ids.iterator().next(), auth)).isEqualTo("ops");
        assertThat(sessions.user("A".repeat(43), auth)).isNull();
        assertThat(sessions.user(null, auth)).isNull();
    }

    @Test
    void aSessionUnusedForTheIdleTimeEndsAndUseKeepsItOpen() {
        String id = sessions.open("ops", auth);
        now.addAndGet(29 * MINUTE);
        assertThat(sessions.user(id, auth)).isEqualTo("ops");
        now.addAndGet(29 * MINUTE); // 58 minutes since sign-in, 29 since last use
        assertThat(sessions.user(id, auth)).isEqualTo("ops");
        now.addAndGet(31 * MINUTE);
        assertThat(sessions.user(id, auth)).isNull();
        now.addAndGet(-31 * MINUTE);
        assertThat(sessions.user(id, auth)).as("ended for good, not only while idle").isNull();
    }

    @Test
    void aSessionEndsAtTheAbsoluteLimitHoweverOftenItIsUsed() {
        String id = sessions.open("ops", auth);
        for (int i = 0; i < 12 * 3; i++) {
            now.addAndGet(20 * MINUTE);
            assertThat(sessions.user(id, auth)).as("after %d minutes", (i + 1) * 20).isEqualTo("ops");
        }
        now.addAndGet(1);
        assertThat(sessions.user(id, auth)).isNull();
    }

    @Test
    void theTableKeepsTheNewestSessionsUpToItsBound() {
        AdminSessions small = new AdminSessions(now::get, 30 * MINUTE, 12 * 60 * MINUTE, 3);
        String first = small.open("ops", auth);
        String second = small.open("ops", auth);
        small.open("ops", auth);
        assertThat(small.user(first, auth)).as("used: still creation order that counts").isEqualTo("ops");
        String fourth = small.open("ops", auth);
        assertThat(small.size()).isEqualTo(3);
        assertThat(small.user(first, auth)).isNull();
        assertThat(small.user(second, auth)).isEqualTo("ops");
        assertThat(small.user(fourth, auth)).isEqualTo("ops");
    }

    @Test
    void aChangedAdminAuthEndsSessionsAndSignOutEndsOne() {
        String a = sessions.open("ops", auth);
        String b = sessions.open("ops", auth);
        sessions.close(a);
        assertThat(sessions.user(a, auth)).isNull();
        assertThat(sessions.user(b, auth)).isEqualTo("ops");
        assertThat(sessions.user(b, auth(Hashes.bcrypt("other")))).isNull();
        assertThat(sessions.user(b, auth)).as("ended, even if the old users came back").isNull();
    }

    @Test
    void signingInDropsEndedSessionsFirst() {
        sessions.open("ops", auth);
        sessions.open("ops", auth);
        now.addAndGet(31 * MINUTE);
        sessions.open("ops", auth);
        assertThat(sessions.size()).isEqualTo(1);
    }
}
