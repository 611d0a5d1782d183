package dev.portico.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Who may use the admin endpoint ({@code admin.auth}): a bearer token, users with password hashes, or both.
 * {@code /healthz} and {@code /readyz} stay open; {@code /metrics} is open unless {@code protect_metrics}.
 *
 * <p>The token is read from its file when the configuration is loaded, so a rotated file takes effect on reload
 * (two configurations naming the same file are equal only if it held the same token).
 *
 * @param tokenFile the file holding the bearer token ({@code token_file}), or {@code null}
 * @param token the token the file held (surrounding whitespace removed), or {@code null} without a file
 * @param users user name to bcrypt ({@code $2a$}, {@code $2b$}, {@code $2y$}) or argon2id
 *     ({@code $argon2id$v=19$...}) hash, for basic authentication ({@code users})
 * @param protectMetrics whether {@code /metrics} needs authentication too ({@code protect_metrics})
 */
public record AdminAuthConfig(Path tokenFile, String token, Map<String, String> users, boolean protectMetrics) {
    /**
     * The most memory an argon2id hash may ask for, in KiB: it comes out of the heap each time a password is checked
     * (128 MiB; 19 to 64 MiB are the usual settings).
     */
    public static final int MAX_ARGON2_MEMORY_KIB = 128 * 1024;
    /** The shortest token accepted: a guessable token is no protection. */
    public static final int MIN_TOKEN_LENGTH = 16;
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}");
    private static final Pattern ARGON2_MEMORY = Pattern.compile("^\\$argon2id\\$v=19\\$m=(\\d+),");
    private static final Pattern ARGON2ID = Pattern.compile(
            "\\$argon2id\\$v=19\\$m=\\d{1,7},t=\\d{1,3},p=\\d{1,3}\\$[A-Za-z0-9+/]{11,}\\$[A-Za-z0-9+/]{16,}");

    /** Checks that something is required, the token's length, the user names and the hashes' form. */
    public AdminAuthConfig {
        users = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(users, "users")));
        if ((tokenFile == null) != (token == null)) {
            throw new IllegalArgumentException("token_file and its token go together");
        }
        if (token == null && users.isEmpty()) {
            throw new IllegalArgumentException("needs token_file or users (or both)");
        }
        if (token != null && token.length() < MIN_TOKEN_LENGTH) {
            throw new IllegalArgumentException("token_file \"" + tokenFile + "\" holds " + token.length()
                    + " characters; a token needs at least " + MIN_TOKEN_LENGTH);
        }
        if (token != null && !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("token_file \"" + tokenFile + "\" holds characters a bearer token "
                    + "cannot carry (spaces, control or non-ASCII characters)");
        }
        for (Map.Entry<String, String> u : users.entrySet()) {
            String name = u.getKey();
            if (name.isEmpty() || name.indexOf(':') >= 0 || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("users has a bad name \"" + name
                        + "\" (printable ASCII without spaces or ':')");
            }
            String problem = hashProblem(u.getValue());
            if (problem != null) {
                throw new IllegalArgumentException("users." + name + ": " + problem);
            }
        }
    }

    /**
     * @param hash a password hash
     * @return what is wrong with it as a {@code users} value, or {@code null} if nothing is
     */
    public static String hashProblem(String hash) {
        if (!isHash(hash)) {
            return "not a bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$v=19$m=...,t=...,p=...$salt$hash) hash";
        }
        java.util.regex.Matcher m = ARGON2_MEMORY.matcher(hash);
        if (m.find() && Long.parseLong(m.group(1)) > MAX_ARGON2_MEMORY_KIB) {
            return "asks argon2id for m=" + m.group(1) + " KiB of memory per check; at most "
                    + MAX_ARGON2_MEMORY_KIB + " is accepted";
        }
        return null;
    }

    /**
     * @param hash a password hash
     * @return whether it has the form of a bcrypt or argon2id hash
     */
    public static boolean isHash(String hash) {
        return hash != null && (BCRYPT.matcher(hash).matches() || ARGON2ID.matcher(hash).matches());
    }

    /**
     * Reads a token file.
     *
     * @param file the file
     * @return its content without surrounding whitespace
     * @throws IllegalArgumentException naming the file if it cannot be read
     */
    public static String readToken(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read \"" + file + "\": " + e.getMessage());
        }
    }

    /** @return a builder with no token, no users and {@code protect_metrics} off */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link AdminAuthConfig}; each method sets the {@code admin.auth} key of its name. Not thread-safe. */
    public static final class Builder {
        private Path tokenFile;
        private final Map<String, String> users = new LinkedHashMap<>();
        private boolean protectMetrics;

        private Builder() {
        }

        /**
         * @param file {@code token_file}: the file holding the bearer token, read by {@link #build()}
         * @return this
         */
        public Builder tokenFile(Path file) {
            tokenFile = file;
            return this;
        }

        /**
         * @param name a user name ({@code users} key)
         * @param hash its bcrypt or argon2id password hash
         * @return this
         */
        public Builder user(String name, String hash) {
            users.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(hash, "hash"));
            return this;
        }

        /**
         * @param value {@code protect_metrics}: whether {@code /metrics} needs authentication
         * @return this
         */
        public Builder protectMetrics(boolean value) {
            protectMetrics = value;
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if the token file cannot be read, or a value is not valid
         */
        public AdminAuthConfig build() {
            String token;
            try {
                token = tokenFile == null ? null : readToken(tokenFile);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("token_file " + e.getMessage(), e);
            }
            return new AdminAuthConfig(tokenFile, token, users, protectMetrics);
        }
    }
}
