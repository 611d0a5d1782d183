package dev.portico.config;

import dev.portico.internal.auth.Htpasswd;
import dev.portico.internal.auth.PasswordHash;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code basic_auth} policy (RFC 7617): a request without valid credentials gets 401 with
 * {@code WWW-Authenticate: Basic realm="..."}. Passwords are stored as bcrypt ({@code $2a$}, {@code $2b$},
 * {@code $2y$}) or argon2id hashes, never as plain text; they are checked off the event loop, and a successful
 * check is remembered for a while, keyed by a keyed hash of the credentials, so a logged-in client costs
 * microseconds.
 *
 * @param realm the protection space named in the challenge
 * @param users user name to password hash
 * @param usersFile an htpasswd file ({@code user:hash} lines) read when the configuration was made, or
 *     {@code null}; a changed file makes an unequal record, so a reload picks it up
 * @param removeCredentials whether {@code Authorization} is removed before the request is forwarded
 */
public record BasicAuthPolicyConfig(String realm, Map<String, String> users, FileContent usersFile,
                                    boolean removeCredentials) implements PolicyConfig {
    /** The realm when none is given. */
    public static final String DEFAULT_REALM = "portico";

    /** Validates the realm, the user names and every hash. */
    public BasicAuthPolicyConfig {
        Objects.requireNonNull(realm, "realm");
        if (realm.isEmpty() || realm.indexOf('"') >= 0 || realm.indexOf('\\') >= 0
                || !dev.portico.policy.Headers.isFieldValue(realm)) {
            throw new IllegalArgumentException("realm must be non-empty text without quotes, backslashes or "
                    + "control characters");
        }
        users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
        for (Map.Entry<String, String> e : users.entrySet()) {
            String user = Objects.requireNonNull(e.getKey(), "user name");
            if (user.isEmpty() || user.indexOf(':') >= 0) {
                throw new IllegalArgumentException("users user name must be non-empty and without ':', got \""
                        + user + "\"");
            }
            try {
                PasswordHash.parse(Objects.requireNonNull(e.getValue(), "hash"));
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException("users " + user + ": " + x.getMessage());
            }
        }
        if (usersFile != null) {
            Map<String, String> fromFile;
            try {
                fromFile = Htpasswd.parse(usersFile.text());
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException("users_file " + usersFile.path() + " " + x.getMessage());
            }
            for (String user : fromFile.keySet()) {
                if (users.containsKey(user)) {
                    throw new IllegalArgumentException("users_file names " + user + ", who is in users too");
                }
            }
        } else if (users.isEmpty()) {
            throw new IllegalArgumentException("needs users or users_file");
        }
    }

    /** @return every user with their hash: {@code users} and then the file's */
    public Map<String, String> allUsers() {
        if (usersFile == null) {
            return users;
        }
        Map<String, String> all = new LinkedHashMap<>(users);
        all.putAll(Htpasswd.parse(usersFile.text()));
        return Collections.unmodifiableMap(all);
    }

    /** @return a builder with the default realm, no users, credentials forwarded */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String type() {
        return "basic_auth";
    }

    @Override
    public String toString() {
        return "basic_auth realm \"" + realm + "\" users " + users.keySet()
                + (usersFile == null ? "" : " users_file " + usersFile) + " remove_credentials " + removeCredentials;
    }

    /** Builds {@link BasicAuthPolicyConfig}. Not thread-safe. */
    public static final class Builder {
        private String realm = DEFAULT_REALM;
        private final Map<String, String> users = new LinkedHashMap<>();
        private FileContent usersFile;
        private boolean removeCredentials;

        private Builder() {
        }

        /**
         * @param value the realm named in the challenge
         * @return this
         */
        public Builder realm(String value) {
            this.realm = value;
            return this;
        }

        /**
         * @param name a user name
         * @param hash the user's bcrypt or argon2id password hash
         * @return this
         */
        public Builder user(String name, String hash) {
            users.put(name, hash);
            return this;
        }

        /**
         * @param file an htpasswd file, read now
         * @return this
         * @throws IllegalArgumentException if it cannot be read
         */
        public Builder usersFile(Path file) {
            this.usersFile = FileContent.read(file);
            return this;
        }

        /**
         * @param value whether {@code Authorization} is removed before forwarding
         * @return this
         */
        public Builder removeCredentials(boolean value) {
            this.removeCredentials = value;
            return this;
        }

        /** @return the policy */
        public BasicAuthPolicyConfig build() {
            return new BasicAuthPolicyConfig(realm, users, usersFile, removeCredentials);
        }
    }
}
