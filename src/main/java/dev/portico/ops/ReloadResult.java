package dev.portico.ops;

import java.util.List;

/**
 * The outcome of a configuration reload.
 *
 * @param applied whether the new configuration now serves
 * @param problems why it was refused (each naming the file and key path where it can), empty if applied
 * @param millis how long parsing, validating and applying took
 */
public record ReloadResult(boolean applied, List<String> problems, long millis) {
    /** Copies the problems. */
    public ReloadResult {
        problems = List.copyOf(problems);
    }
}
