package dev.portico.internal.auth;

import java.util.LinkedHashMap;
import java.util.Map;

/** Reads htpasswd files: one {@code user:hash} a line; blank lines and lines starting with {@code #} skipped. */
public final class Htpasswd {
    private Htpasswd() {
    }

    /**
     * @param text the file's contents
     * @return user name to hash, in file order; every hash checked with {@link PasswordHash#parse}
     * @throws IllegalArgumentException naming the line of the first problem
     */
    public static Map<String, String> parse(String text) {
        Map<String, String> users = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String at = "line " + (i + 1) + ": ";
            if (colon <= 0) {
                throw new IllegalArgumentException(at + "expected USER:HASH");
            }
            String user = line.substring(0, colon);
            try {
                PasswordHash.parse(line.substring(colon + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + "user " + user + ": " + e.getMessage());
            }
            if (users.put(user, line.substring(colon + 1)) != null) {
                throw new IllegalArgumentException(at + "user " + user + " appears twice");
            }
        }
        return users;
    }
}
