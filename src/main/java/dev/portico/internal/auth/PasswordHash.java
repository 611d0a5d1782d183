package dev.portico.internal.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * A stored password hash: bcrypt ({@code $2a$}, {@code $2b$}, {@code $2y$}) or argon2id
 * ({@code $argon2id$v=19$m=...,t=...,p=...$salt$hash}). Immutable and thread-safe. Checking takes milliseconds by
 * design: never call {@link #matches} on an event loop.
 */
public final class PasswordHash {
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(\\d\\d)\\$[./A-Za-z0-9]{53}");
    private static final Pattern ARGON2ID = Pattern.compile(
            "\\$argon2id\\$v=19\\$m=(\\d{1,8}),t=(\\d{1,3}),p=(\\d{1,3})\\$([A-Za-z0-9+/]+)\\$([A-Za-z0-9+/]+)");
    private static final String BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /** The most memory one argon2id check may take, in KiB (1 GiB). */
    static final int MAX_ARGON2_MEMORY_KIB = 1 << 20;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String text;
    private final int memoryKib;
    private final int iterations;
    private final int parallelism;
    private final byte[] salt;
    private final byte[] expected;

    private PasswordHash(String text, int memoryKib, int iterations, int parallelism, byte[] salt, byte[] expected) {
        this.text = text;
        this.memoryKib = memoryKib;
        this.iterations = iterations;
        this.parallelism = parallelism;
        this.salt = salt;
        this.expected = expected;
    }

    /**
     * @param text a stored hash
     * @return the hash
     * @throws IllegalArgumentException if it is not a bcrypt or argon2id hash with sane parameters (plain text and
     *     other schemes such as MD5 {@code $apr1$} or {@code {SHA}} included)
     */
    public static PasswordHash parse(String text) {
        Matcher b = BCRYPT.matcher(text);
        if (b.matches()) {
            int cost = Integer.parseInt(b.group(1));
            if (cost < 4 || cost > 31) {
                throw new IllegalArgumentException("bcrypt cost must be between 4 and 31, got " + cost);
            }
            return new PasswordHash(text, 0, cost, 0, null, null);
        }
        Matcher a = ARGON2ID.matcher(text);
        if (a.matches()) {
            int m = Integer.parseInt(a.group(1));
            int t = Integer.parseInt(a.group(2));
            int p = Integer.parseInt(a.group(3));
            if (p < 1 || p > 255 || t < 1 || m < 8 * p || m > MAX_ARGON2_MEMORY_KIB) {
                throw new IllegalArgumentException("argon2id parameters out of range (p 1..255, t >= 1, m from 8*p to "
                        + MAX_ARGON2_MEMORY_KIB + " KiB)");
            }
            byte[] salt = Base64.getDecoder().decode(a.group(4));
            byte[] hash = Base64.getDecoder().decode(a.group(5));
            if (salt.length < 8 || hash.length < 16) {
                throw new IllegalArgumentException("argon2id salt must be at least 8 bytes and the hash 16");
            }
            return new PasswordHash(text, m, t, p, salt, hash);
        }
        if (text.startsWith("$2") || text.startsWith("$argon2")) {
            throw new IllegalArgumentException("malformed hash \"" + shown(text) + "\" (bcrypt $2y$NN$ and 53 "
                    + "characters, or argon2id $argon2id$v=19$m=..,t=..,p=..$salt$hash)");
        }
        throw new IllegalArgumentException("not a bcrypt or argon2id hash (plain-text passwords and other schemes "
                + "are refused; make one with: htpasswd -nbB USER PASSWORD)");
    }

    /** A prefix of an unusable hash, enough to find it without printing all of it. */
    private static String shown(String text) {
        return text.length() <= 12 ? text : text.substring(0, 12) + "...";
    }

    /**
     * @param password the password to check, UTF-8
     * @return whether it matches; the comparison takes the same time wherever the first difference is
     */
    public boolean matches(String password) {
        if (salt == null) {
            try {
                return OpenBSDBCrypt.checkPassword(text, password.toCharArray());
            } catch (IllegalArgumentException e) {
                return false; // a password beyond bcrypt's 72 bytes, which no stored hash can match
            }
        }
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13).withMemoryAsKB(memoryKib).withIterations(iterations)
                .withParallelism(parallelism).withSalt(salt).build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(params);
        byte[] actual = new byte[expected.length];
        generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), actual);
        return MessageDigest.isEqual(actual, expected);
    }

    /**
     * @return a hash with the same scheme and cost that no password matches: checked for unknown users, so that
     *     they take as long as known ones and timing does not tell which users exist
     */
    public PasswordHash decoy() {
        if (salt == null) {
            StringBuilder s = new StringBuilder(text.substring(0, 7)).append(".".repeat(22));
            for (int i = 0; i < 31; i++) {
                s.append(BCRYPT_ALPHABET.charAt(RANDOM.nextInt(BCRYPT_ALPHABET.length())));
            }
            return new PasswordHash(s.toString(), 0, iterations, 0, null, null);
        }
        byte[] s = new byte[salt.length];
        byte[] e = new byte[expected.length];
        RANDOM.nextBytes(s);
        RANDOM.nextBytes(e);
        return new PasswordHash("$argon2id$decoy", memoryKib, iterations, parallelism, s, e);
    }

    @Override
    public String toString() {
        return salt == null ? "bcrypt cost " + iterations : "argon2id m=" + memoryKib + ",t=" + iterations;
    }
}
