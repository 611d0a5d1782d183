package dev.portico.config;

/**
 * The access log: one line per exchange on the {@code portico.access} logger (stdout by default).
 *
 * @param enabled whether lines are written
 */
public record AccessLogConfig(boolean enabled) {
    /** The default: enabled. */
    public static final AccessLogConfig DEFAULTS = new AccessLogConfig(true);
}
