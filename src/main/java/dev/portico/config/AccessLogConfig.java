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

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /**
     * Builds {@link AccessLogConfig}; each method sets the {@code access_log} key of its name, the others keep their
     * defaults. Not thread-safe.
     */
    public static final class Builder {
        private boolean enabled;
        private Format format;
        private String path;

        Builder(AccessLogConfig from) {
            enabled = from.enabled;
            format = from.format;
            path = from.path;
        }

        /**
         * @param value {@code enabled}: whether lines are written
         * @return this
         */
        public Builder enabled(boolean value) {
            enabled = value;
            return this;
        }

        /**
         * @param value {@code format}: the line format
         * @return this
         */
        public Builder format(Format value) {
            format = value;
            return this;
        }

        /**
         * @param value {@code path}: {@value #STDOUT} or a file path
         * @return this
         */
        public Builder path(String value) {
            path = value;
            return this;
        }

        /**
         * @return the access log settings
         * @throws IllegalArgumentException if the path is empty
         * @throws NullPointerException if the format or path is null
         */
        public AccessLogConfig build() {
            return new AccessLogConfig(enabled, format, path);
        }
    }
}
