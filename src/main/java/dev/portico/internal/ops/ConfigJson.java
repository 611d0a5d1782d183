package dev.portico.internal.ops;

import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.FileContent;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.OtlpConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamUrl;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The effective configuration as JSON for {@code GET /config}: every record component under its YAML key name,
 * durations as {@code 5s}-style text, addresses and URLs as text (a listener's {@code h2c} beside its address), a
 * route's inherited body limit as the limit it inherits. Components whose name says they hold a secret (password,
 * passphrase, secret, token, private key content) are shown as {@code "<redacted>"}, and so are the password
 * hashes of basic_auth's and the admin endpoint's users (their names stay); file names are not secrets, and a file
 * read into the configuration shows its name and digest only.
 * Written by walking the records, so keys added to the configuration appear without changes here.
 */
final class ConfigJson {
    private static final Pattern SECRET = Pattern.compile("(?i).*(password|passphrase|secret|token|privatekeypem"
            + "|credential).*");
    private static final String REDACTED = "\"<redacted>\"";

    /** The configuration being written, for values a record leaves to it; {@code null} for another record. */
    private final ProxyConfig root;

    private ConfigJson(ProxyConfig root) {
        this.root = root;
    }

    static String of(Object config) {
        StringBuilder sb = new StringBuilder(1024);
        new ConfigJson(config instanceof ProxyConfig p ? p : null).value(sb, config);
        return sb.toString();
    }

    private void value(StringBuilder sb, Object v) {
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
        } else if (v instanceof ListenerConfig l) {
            listener(sb, l);
        } else if (v instanceof FileContent f) {
            // a file's contents may be secret (password hashes, an HMAC key): its name and digest say which it is
            sb.append("{\"path\":");
            string(sb, f.path().toString());
            sb.append(",\"sha256\":");
            string(sb, f.digest());
            sb.append('}');
        } else if (v instanceof ListenAddress || v instanceof UpstreamUrl) {
            string(sb, v.toString()); // the text is the whole value (an admin address has no h2c)
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

    /** A listener as its YAML long form reads: {@code address}, {@code h2c}, {@code tls}, {@code redirect_https}. */
    private void listener(StringBuilder sb, ListenerConfig l) {
        sb.append("{\"address\":");
        string(sb, l.address().toString());
        sb.append(",\"h2c\":").append(l.address().h2c()).append(",\"tls\":");
        value(sb, l.tls());
        sb.append(",\"redirect_https\":").append(l.redirectHttps()).append('}');
    }

    private void record(StringBuilder sb, Record r) {
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
            if (r instanceof RouteConfig route && c.getName().equals("maxRequestBody")
                    && route.maxRequestBody() == RouteConfig.INHERIT && root != null) {
                v = root.limits().maxRequestBody();
            }
            if (r instanceof OtlpConfig o && c.getName().equals("headers")) {
                // An exporter's headers are its credentials (API keys): their names are shown, never the values.
                v = redactedValues(o.headers());
            }
            if (c.getName().equals("users") && v instanceof Map<?, ?> users) {
                v = redactedValues(users); // password hashes can be attacked offline: names only
            }
            if (v != null && SECRET.matcher(c.getName()).matches() && !(v instanceof java.nio.file.Path)
                    && !c.getName().equals("tokenFrom")) {
                sb.append(REDACTED);
            } else {
                value(sb, v);
            }
        }
        sb.append('}');
    }

    private static Map<String, String> redactedValues(Map<?, ?> secrets) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        secrets.keySet().forEach(k -> out.put(String.valueOf(k), "<redacted>"));
        return out;
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
