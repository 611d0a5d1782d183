package dev.portico.config;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code rewrite} policy: the path (never the query) is matched against {@code regex} and, when it matches,
 * replaced with {@code replacement} ({@code $1} for groups), before the route's upstream path is prepended.
 *
 * @param regex a Java regular expression
 * @param replacement the replacement, with {@code $n} group references
 */
public record RewritePolicyConfig(String regex, String replacement) implements PolicyConfig {
    /** Checks that the expression compiles and the replacement names only groups it has. */
    public RewritePolicyConfig {
        Objects.requireNonNull(regex, "regex");
        Objects.requireNonNull(replacement, "replacement");
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("regex not a regular expression: " + e.getDescription());
        }
        int groups = p.matcher("").groupCount();
        for (int i = 0; i < replacement.length() - 1; i++) {
            if (replacement.charAt(i) == '\\') {
                i++;
            } else if (replacement.charAt(i) == '$' && Character.isDigit(replacement.charAt(i + 1))
                    && replacement.charAt(i + 1) - '0' > groups) {
                throw new IllegalArgumentException("replacement names group $" + replacement.charAt(i + 1)
                        + " but the regex has " + groups + (groups == 1 ? " group" : " groups"));
            }
        }
        if (!replacement.startsWith("/") && !replacement.startsWith("$")) {
            throw new IllegalArgumentException("replacement must start with / (it is a path)");
        }
    }

    @Override
    public String type() {
        return "rewrite";
    }
}
