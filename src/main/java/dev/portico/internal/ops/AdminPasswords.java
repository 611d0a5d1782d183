package dev.portico.internal.ops;

import dev.portico.internal.auth.PasswordHash;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Checks admin passwords against bcrypt and argon2id hashes. A hash costs tens of milliseconds of CPU by design, so
 * it is computed on a thread of its own, never the admin event loop, with a short queue: a flood of guesses is
 * refused rather than queued. A password that matched is remembered for a while (by a SHA-256 of user, hash and
 * password, never the password itself), so a dashboard's requests do not each pay for a hash.
 */
final class AdminPasswords implements AutoCloseable {
    /** How long a matched password is taken without hashing again. */
    static final long REMEMBER_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final int REMEMBERED = 256;
    private static final int QUEUE = 8;

    private final Executor executor;
    /** Digest of a matched (user, hash, password) to when it stops counting; guarded by itself. */
    private final Map<String, Long> matched = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > REMEMBERED;
        }
    };

    /** The answer of a check: known at once when remembered, else once hashed. */
    enum Outcome { MATCH, MISMATCH, BUSY }

    /** Hashes on one thread of its own with a queue of {@value #QUEUE}. */
    AdminPasswords() {
        this(new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "portico-admin-passwords");
            t.setDaemon(true);
            return t;
        }));
    }

    /**
     * @param executor runs the hashing; a {@link RejectedExecutionException} from it answers {@link Outcome#BUSY}
     */
    AdminPasswords(Executor executor) {
        this.executor = executor;
    }

    /**
     * @param user the user name
     * @param hash the user's configured hash
     * @param password the password the client sent
     * @return the outcome; already complete if the password matched recently
     */
    CompletableFuture<Outcome> check(String user, String hash, String password) {
        String key = digest(user + '\n' + hash + '\n' + password);
        synchronized (matched) {
            Long until = matched.get(key);
            if (until != null && until - System.nanoTime() > 0) {
                return CompletableFuture.completedFuture(Outcome.MATCH);
            }
        }
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                boolean ok = matches(hash, password);
                if (ok) {
                    synchronized (matched) {
                        matched.put(key, System.nanoTime() + REMEMBER_NANOS);
                    }
                }
                result.complete(ok ? Outcome.MATCH : Outcome.MISMATCH);
            });
        } catch (RejectedExecutionException e) {
            result.complete(Outcome.BUSY);
        }
        return result;
    }

    /**
     * Hashes {@code password} as {@code hash} says and compares in constant time. Slow: off the event loops only.
     *
     * @param hash a bcrypt ({@code $2a$}, {@code $2b$}, {@code $2y$}) or argon2id hash
     * @param password the password to check
     * @return whether it matches; false for a hash that cannot be read
     */
    static boolean matches(String hash, String password) {
        try {
            return PasswordHash.parse(hash).matches(password);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    @Override
    public void close() {
        if (executor instanceof ExecutorService service) {
            service.shutdownNow();
        }
    }
}
