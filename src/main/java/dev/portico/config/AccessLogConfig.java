package dev.portico.config;

import java.util.Locale;
import java.util.Objects;

/**
 * The access log: one line per exchange.
 *
 * @param enabled whether lines are written
 * @param format the line format
 * @param path {@code stdout} (the {@code portico.access} logger, which writes to stdout unless Logback is
 *     configured otherwise), or a file path, appended to and reopened on SIGUSR1
 */
public record AccessLogConfig(boolean enabled, Format format, String path) {
    /** The {@code path} that means standard output. */
    public static final String STDOUT = "stdout";
    /** The default: enabled, combined format, stdout. */
    public static final AccessLogConfig DEFAULTS = new AccessLogConfig(true, Format.COMBINED, STDOUT);

    /** Access log line formats. */
    public enum Format {
        /** The Apache/nginx combined format with request id, duration, upstream and upstream time appended. */
        COMBINED,
        /** One JSON object per line. */
        JSON;

        /**
         * @param text {@code combined} or {@code json}
         * @return the format
         */
        public static Format parse(String text) {
            for (Format f : values()) {
                if (f.name().toLowerCase(Locale.ROOT).equals(text)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("expected combined or json, got \"" + text + "\"");
        }
    }

    /** Validates the path. */
    public AccessLogConfig {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(path, "path");
        if (path.isBlank()) {
            throw new IllegalArgumentException("path is empty (use stdout or a file path)");
        }
    }

    /**
     * The combined format to stdout.
     *
     * @param enabled whether lines are written
     */
    public AccessLogConfig(boolean enabled) {
        this(enabled, Format.COMBINED, STDOUT);
    }

    /** @return whether lines go to stdout (through the {@code portico.access} logger) rather than a file */
    public boolean toStdout() {
        return path.equals(STDOUT);
    }
}
