package dev.portico.internal.ops;

import dev.portico.config.AdminAuthConfig;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The dashboard's signed-in sessions, in memory: a random 256-bit id (what the cookie carries) to the user and the
 * {@code admin.auth} it was opened under. A session ends after {@link #IDLE_NANOS} unused, {@link #MAX_NANOS} after
 * it began whatever its use, on sign-out, or when a reload changes {@code admin.auth} (a user removed or its hash
 * changed, the token rotated). The table is bounded: the oldest session is dropped to make room, so a flood of
 * sign-ins costs memory no more than {@link #MAX_SESSIONS} entries. Ids are never logged.
 */
final class AdminSessions {
    static final long IDLE_NANOS = TimeUnit.MINUTES.toNanos(30);
    static final long MAX_NANOS = TimeUnit.HOURS.toNanos(12);
    static final int MAX_SESSIONS = 1000;

    private record Session(String user, AdminAuthConfig auth, long created, long used) { }

    private final SecureRandom random = new SecureRandom();
    private final LongSupplier clock;
    private final long idleNanos;
    private final long maxNanos;
    private final int maxSessions;
    /** In order of creation, oldest first; guarded by itself (the admin loop and the password thread use it). */
    private final LinkedHashMap<String, Session> table = new LinkedHashMap<>();

    AdminSessions() {
        this(System::nanoTime, IDLE_NANOS, MAX_NANOS, MAX_SESSIONS);
    }

    /** For tests: a clock of their own and shorter limits. */
    AdminSessions(LongSupplier clock, long idleNanos, long maxNanos, int maxSessions) {
        this.clock = clock;
        this.idleNanos = idleNanos;
        this.maxNanos = maxNanos;
        this.maxSessions = maxSessions;
    }

    /**
     * @param user who signed in
     * @param auth the {@code admin.auth} the password was checked against
     * @return the new session's id, 43 base64url characters
     */
    String open(String user, AdminAuthConfig auth) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        sweep(auth);
        long now = clock.getAsLong();
        synchronized (table) {
            table.put(id, new Session(user, auth, now, now));
            Iterator<String> oldest = table.keySet().iterator();
            while (table.size() > maxSessions) {
                oldest.next();
                oldest.remove();
            }
        }
        return id;
    }

    /**
     * Looks a session up and, if it is still valid, counts this as a use (the idle time starts again).
     *
     * @param id the cookie's value, or {@code null}
     * @param auth the running {@code admin.auth}
     * @return the session's user, or {@code null} if there is no such session or it has ended
     */
    String user(String id, AdminAuthConfig auth) {
        if (id == null || auth == null) {
            return null;
        }
        long now = clock.getAsLong();
        synchronized (table) {
            Session s = table.get(id);
            if (s == null) {
                return null;
            }
            if (now - s.used() > idleNanos || now - s.created() > maxNanos || !s.auth().equals(auth)) {
                table.remove(id);
                return null;
            }
            table.put(id, new Session(s.user(), s.auth(), s.created(), now)); // keeps its place: creation order
            return s.user();
        }
    }

    /** Ends a session; nothing happens for an unknown id. */
    void close(String id) {
        if (id != null) {
            synchronized (table) {
                table.remove(id);
            }
        }
    }

    /** Drops every session that has ended, so that the bound counts live ones only; called on each sign-in. */
    void sweep(AdminAuthConfig auth) {
        long now = clock.getAsLong();
        synchronized (table) {
            for (Iterator<Map.Entry<String, Session>> it = table.entrySet().iterator(); it.hasNext(); ) {
                Session s = it.next().getValue();
                if (now - s.used() > idleNanos || now - s.created() > maxNanos || !s.auth().equals(auth)) {
                    it.remove();
                }
            }
        }
    }

    /** @return how many sessions the table holds */
    int size() {
        synchronized (table) {
            return table.size();
        }
    }
}
