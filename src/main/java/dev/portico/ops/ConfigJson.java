package dev.portico.ops;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The effective configuration as JSON for {@code GET /config}: every record component under its YAML key name,
 * durations as {@code 5s}-style text, addresses and URLs as text. Components whose name says they hold a secret
 * (password, passphrase, secret, token, private key content) are shown as {@code "<redacted>"}. Written by walking
 * the records, so keys added to the configuration appear without changes here.
 */
final class ConfigJson {
    private static final Pattern SECRET = Pattern.compile("(?i).*(password|passphrase|secret|token|privatekeypem"
            + "|credential).*");
    private static final String REDACTED = "\"<redacted>\"";

    private ConfigJson() {
    }

    static String of(Object config) {
        StringBuilder sb = new StringBuilder(1024);
        value(sb, config);
        return sb.toString();
    }

    private static void value(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
            sb.append(v);
        } else if (v instanceof Number n) {
            sb.append(Double.isFinite(n.doubleValue()) ? n.toString() : "null");
        } else if (v instanceof Duration d) {
            string(sb, duration(d));
        } else if (v instanceof Enum<?> e) {
            string(sb, e.name().toLowerCase(Locale.ROOT));
        } else if (v instanceof Record r) {
            record(sb, r);
        } else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                value(sb, o);
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                string(sb, String.valueOf(e.getKey()));
                sb.append(':');
                value(sb, e.getValue());
            }
            sb.append('}');
        } else {
            string(sb, v.toString());
        }
    }

    private static void record(StringBuilder sb, Record r) {
        // Value types with a text form of their own (addresses, URLs) are shown as that text.
        if (hasOwnToString(r)) {
            string(sb, r.toString());
            return;
        }
        sb.append('{');
        boolean first = true;
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            string(sb, snake(c.getName()));
            sb.append(':');
            Object v;
            try {
                c.getAccessor().setAccessible(true);
                v = c.getAccessor().invoke(r);
            } catch (IllegalAccessException | InvocationTargetException e) {
                v = "<unreadable>";
            }
            if (v != null && SECRET.matcher(c.getName()).matches()) {
                sb.append(REDACTED);
            } else {
                value(sb, v);
            }
        }
        sb.append('}');
    }

    /** A record's generated toString reads {@code Name[a=1, b=2]}; one written by hand is its text form. */
    private static boolean hasOwnToString(Record r) {
        return !r.toString().startsWith(r.getClass().getSimpleName() + "[");
    }

    static String snake(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('_').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** Appends {@code s} as a JSON string; control characters are escaped (RFC 8259 section 7). */
    static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
