package dev.portico.internal.proxy;

import dev.portico.config.AccessLogConfig.Format;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Renders an {@link AccessLogEntry} as one line (without the line end). */
final class AccessLogFormat {
    private static final DateTimeFormatter CLF_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);
    /** The last second formatted on this thread: lines come many per second. */
    private static final ThreadLocal<long[]> LAST_SECOND = ThreadLocal.withInitial(() -> new long[] {-1});
    private static final ThreadLocal<String[]> LAST_TEXT = ThreadLocal.withInitial(() -> new String[1]);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private AccessLogFormat() {
    }

    static String format(AccessLogEntry e, Format format) {
        return format == Format.JSON ? json(e) : combined(e);
    }

    /**
     * The combined format, then request id, duration in ms, upstream address and upstream time in ms (then
     * {@code attempts=N} when the request took more than one try, {@code policy=NAME} when a policy answered it,
     * and the TLS version and cipher on TLS connections):
     * {@code 127.0.0.1 - - [26/Nov/2026:12:00:00 +0000] "GET /a HTTP/1.1" 200 87 "-" "curl/8" 4bf9... 3 10.0.0.5:80 2}.
     */
    static String combined(AccessLogEntry e) {
        StringBuilder sb = new StringBuilder(200);
        sb.append(e.client()).append(" - - [").append(clfTime(e.epochMillis())).append("] \"");
        escaped(sb, e.method()).append(' ');
        escaped(sb, e.target()).append(' ');
        escaped(sb, e.version()).append("\" ");
        if (e.status() > 0) {
            sb.append(e.status());
        } else {
            sb.append('-');
        }
        sb.append(' ');
        if (e.bytes() > 0) {
            sb.append(e.bytes());
        } else {
            sb.append('-');
        }
        sb.append(" \"");
        escaped(sb, e.referer() == null ? "-" : e.referer()).append("\" \"");
        escaped(sb, e.userAgent() == null ? "-" : e.userAgent()).append("\" ");
        sb.append(e.requestId() == null ? "-" : e.requestId()).append(' ')
                .append(e.durationNanos() / 1_000_000).append(' ')
                .append(e.upstream() == null ? "-" : e.upstream()).append(' ');
        if (e.upstreamNanos() >= 0) {
            sb.append(e.upstreamNanos() / 1_000_000);
        } else {
            sb.append('-');
        }
        if (e.attempts() > 1) {
            sb.append(" attempts=").append(e.attempts());
        }
        if (e.policy() != null) {
            escaped(sb.append(" policy="), e.policy());
        }
        if (e.tls() != null) {
            sb.append(' ').append(e.tls());
        }
        return sb.toString();
    }

    /** One JSON object with the combined fields plus route, attempts and trace id; absent values are null. */
    static String json(AccessLogEntry e) {
        StringBuilder sb = new StringBuilder(320);
        sb.append("{\"time\":\"").append(Instant.ofEpochMilli(e.epochMillis())).append('"');
        string(sb, "client", e.client());
        string(sb, "method", e.method());
        string(sb, "target", e.target());
        string(sb, "protocol", e.version());
        sb.append(",\"status\":").append(e.status() > 0 ? Integer.toString(e.status()) : "null");
        sb.append(",\"bytes\":").append(e.bytes());
        sb.append(",\"duration_ms\":").append(e.durationNanos() / 1_000_000);
        string(sb, "referer", e.referer());
        string(sb, "user_agent", e.userAgent());
        string(sb, "request_id", e.requestId());
        string(sb, "upstream", e.upstream());
        sb.append(",\"upstream_ms\":").append(e.upstreamNanos() >= 0 ? Long.toString(e.upstreamNanos() / 1_000_000)
                : "null");
        string(sb, "route", e.route());
        sb.append(",\"attempts\":").append(e.attempts());
        string(sb, "trace_id", e.traceId());
        string(sb, "tls", e.tls());
        string(sb, "policy", e.policy());
        if (e.cache() != null) {
            string(sb, "cache", e.cache());
        }
        return sb.append('}').toString();
    }

    private static String clfTime(long epochMillis) {
        long second = epochMillis / 1000;
        long[] last = LAST_SECOND.get();
        String[] text = LAST_TEXT.get();
        if (last[0] != second) {
            last[0] = second;
            text[0] = CLF_TIME.format(Instant.ofEpochSecond(second));
        }
        return text[0];
    }

    /** Apache's escaping: quote and backslash backslashed, control and non-ASCII bytes as {@code \xhh}. */
    static StringBuilder escaped(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c >= 0x7f) {
                sb.append("\\x").append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
            } else {
                sb.append(c);
            }
        }
        return sb;
    }

    private static void string(StringBuilder sb, String key, String value) {
        sb.append(",\"").append(key).append("\":");
        if (value == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                sb.append("\\u00").append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
