package dev.portico.config;

import java.util.List;
import java.util.Objects;

/**
 * A configuration that cannot be used. It carries every problem found, each naming its key path, so a user fixes
 * them all in one pass.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings("serial")
    private final List<String> problems;

    /**
     * @param source where the configuration came from (a file name, or a short description)
     * @param problems each problem as {@code key.path: what is wrong}
     */
    public ConfigException(String source, List<String> problems) {
        super(format(source, problems));
        this.problems = List.copyOf(problems);
    }

    /** A single problem with no source file (a builder call). */
    public ConfigException(String problem) {
        this("configuration", List.of(Objects.requireNonNull(problem)));
    }

    /** @return every problem, each as {@code key.path: what is wrong} */
    public List<String> problems() {
        return problems;
    }

    private static String format(String source, List<String> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(source).append(": ").append(problems.size())
                .append(problems.size() == 1 ? " problem" : " problems");
        for (String p : problems) {
            sb.append(System.lineSeparator()).append("  ").append(source).append(": ").append(p);
        }
        return sb.toString();
    }
}
