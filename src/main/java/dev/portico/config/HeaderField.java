package dev.portico.config;

import dev.portico.policy.Headers;
import dev.portico.policy.Template;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A header field a policy sets or adds: a name and a value that may hold variables.
 *
 * @param name the field name, a token; never a hop-by-hop or framing field
 * @param value the value template
 */
public record HeaderField(String name, Template value) {
    /** Fields no policy may set: the connection's own (RFC 9110 section 7.6.1) and the message framing. */
    static final Set<String> RESERVED = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
            "transfer-encoding", "upgrade", "content-length");

    /** Validates the name. */
    public HeaderField {
        name = fieldName(name);
        Objects.requireNonNull(value, "value");
        if (value.isConstant() && !Headers.isFieldValue(value.toString().replace("$$", "$"))) {
            throw new IllegalArgumentException(name + ": the value has control characters or edge whitespace");
        }
    }

    /**
     * @param name the field name
     * @param value the value, with variables such as {@code ${client_ip}}
     * @return the field
     */
    public static HeaderField of(String name, String value) {
        return new HeaderField(name, parseTemplate(value));
    }

    static Template parseTemplate(String text) {
        return Template.parse(Objects.requireNonNull(text, "value"));
    }

    /** @return {@code name} if it is a token that policies may change, as given */
    static String fieldName(String name) {
        Objects.requireNonNull(name, "name");
        if (!Headers.isFieldName(name)) {
            throw new IllegalArgumentException("not a header field name: \"" + name + "\"");
        }
        if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(name + " is a hop-by-hop or framing field that Portico manages");
        }
        return name;
    }
}
