package dev.portico.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A file a policy's configuration names (a password file, a key, a key set), with its contents as read when the
 * configuration was made. Two are equal only if their paths and contents are, so a configuration whose file
 * changed is a new configuration: a reload picks the change up and replaces the policy that uses it.
 * {@link #toString()} shows a digest of the contents, never the contents (they may be secret).
 *
 * @param path the file
 * @param text its contents, as UTF-8 text
 */
public record FileContent(Path path, String text) {
    /** The largest file read: key sets and password files are small. */
    public static final int MAX_BYTES = 1 << 20;

    /** Both are required. */
    public FileContent {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(text, "text");
    }

    /**
     * @param path a readable UTF-8 text file of at most {@link #MAX_BYTES}
     * @return its contents
     * @throws IllegalArgumentException if it cannot be read, is too large or is not UTF-8
     */
    public static FileContent read(Path path) {
        Objects.requireNonNull(path, "path");
        try {
            if (Files.isDirectory(path)) {
                throw new IllegalArgumentException("\"" + path + "\" is a directory, not a file");
            }
            if (Files.size(path) > MAX_BYTES) {
                throw new IllegalArgumentException("\"" + path + "\" is larger than " + MAX_BYTES + " bytes");
            }
            byte[] bytes = Files.readAllBytes(path);
            String text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            return new FileContent(path, text);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read \"" + path + "\": " + YamlConfigLoader.reason(e));
        }
    }

    /** @return the first 12 hex digits of the SHA-256 of the contents */
    public String digest() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return path + " (sha-256 " + digest() + ")";
    }
}
