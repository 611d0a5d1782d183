package dev.portico.config;

import java.util.List;

/**
 * The outcome of a configuration reload.
 *
 * @param applied whether the new configuration now serves
 * @param problems why it was refused (each naming the file and key path where it can), empty if applied
 * @param millis how long parsing, validating and applying took (wall-clock)
 * @param cpuMillis the CPU time the reloading thread spent on it (what it costs when the machine is not busy)
 */
public record ReloadResult(boolean applied, List<String> problems, long millis, long cpuMillis) {
    /** Copies the problems. */
    public ReloadResult {
        problems = List.copyOf(problems);
    }
}
