package dev.portico.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A text with variables, such as {@code https://new.example${path}${query}}, compiled once and rendered per request.
 * The variables: {@code ${client_ip}}, {@code ${request_id}}, {@code ${host}} (without its port), {@code ${scheme}},
 * {@code ${method}}, {@code ${path}} (as received, before a rewrite), {@code ${query}} (with its leading {@code ?},
 * or empty), {@code ${route}} (the route's path prefix) and {@code ${header.NAME}} (the request field's first value,
 * empty when absent). {@code $$} stands for a plain {@code $}. Immutable and thread-safe.
 */
public final class Template {
    private static final String[] VARIABLES =
            {"client_ip", "request_id", "host", "scheme", "method", "path", "query", "route"};

    private final String text;
    /** Literal strings, variable indexes (Integer) and header names (HeaderRef), in order. */
    private final Object[] parts;
    private final String constant;

    private record HeaderRef(String name) {
    }

    private Template(String text, Object[] parts) {
        this.text = text;
        this.parts = parts;
        this.constant = parts.length == 0 ? "" : parts.length == 1 && parts[0] instanceof String s ? s : null;
    }

    /**
     * @param text the template
     * @return the compiled template
     * @throws IllegalArgumentException naming the problem: an unknown variable, an unclosed {@code ${}, or a
     *     {@code $} that starts no variable
     */
    public static Template parse(String text) {
        Objects.requireNonNull(text, "text");
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$') {
                literal.append(c);
                i++;
                continue;
            }
            if (i + 1 < text.length() && text.charAt(i + 1) == '$') {
                literal.append('$');
                i += 2;
                continue;
            }
            if (i + 1 >= text.length() || text.charAt(i + 1) != '{') {
                throw new IllegalArgumentException("a $ must start a variable such as ${path} (write $$ for a $)");
            }
            int end = text.indexOf('}', i + 2);
            if (end < 0) {
                throw new IllegalArgumentException("unclosed variable: " + text.substring(i));
            }
            String name = text.substring(i + 2, end);
            Object part = variable(name);
            if (literal.length() > 0) {
                parts.add(literal.toString());
                literal.setLength(0);
            }
            parts.add(part);
            i = end + 1;
        }
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        return new Template(text, parts.toArray());
    }

    private static Object variable(String name) {
        for (int v = 0; v < VARIABLES.length; v++) {
            if (VARIABLES[v].equals(name)) {
                return v;
            }
        }
        if (name.startsWith("header.") && Headers.isFieldName(name.substring(7))) {
            return new HeaderRef(name.substring(7).toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException("unknown variable ${" + name + "}; known: ${client_ip}, ${request_id}, "
                + "${host}, ${scheme}, ${method}, ${path}, ${query}, ${route}, ${header.NAME}");
    }

    /** @return whether the template has no variables */
    public boolean isConstant() {
        return constant != null;
    }

    /**
     * @param request the request whose values fill the variables
     * @return the text with every variable replaced
     */
    public String render(RequestContext request) {
        if (constant != null) {
            return constant;
        }
        StringBuilder out = new StringBuilder(text.length() + 32);
        for (Object p : parts) {
            if (p instanceof String s) {
                out.append(s);
            } else if (p instanceof HeaderRef h) {
                String v = request.headers().get(h.name());
                if (v != null) {
                    out.append(v);
                }
            } else {
                out.append(value((Integer) p, request));
            }
        }
        return out.toString();
    }

    private static String value(int variable, RequestContext r) {
        switch (variable) {
            case 0: return r.clientIp();
            case 1: return r.requestId();
            case 2: return r.host();
            case 3: return r.scheme();
            case 4: return r.method();
            case 5: return r.originalPath();
            case 6: return r.query();
            default: return r.route();
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Template t && t.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** @return the template's text as written */
    @Override
    public String toString() {
        return text;
    }
}
