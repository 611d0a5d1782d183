package dev.portico.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The validators and value parsers shared by the records, the builders and the YAML loader. Each throws
 * {@link IllegalArgumentException} with a message that reads well after a key path.
 */
public final class ConfigValues {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)(B|KiB|MiB|GiB|KB|MB|GB)?",
            Pattern.CASE_INSENSITIVE);

    private ConfigValues() {
    }

    /**
     * Parses a duration such as {@code 250ms}, {@code 2s}, {@code 1m} or {@code 1h}.
     *
     * @param text the duration text
     * @return the duration
     */
    public static Duration parseDuration(String text) {
        if (text == null) {
            throw new IllegalArgumentException("duration is missing");
        }
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration (use e.g. 250ms, 2s, 1m, 1h): \"" + text + "\"");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("duration out of range: \"" + text + "\"");
        }
        try {
            switch (m.group(2)) {
                case "ms":
                    return Duration.ofMillis(n);
                case "s":
                    return Duration.ofSeconds(n);
                case "m":
                    return Duration.ofMinutes(n);
                default:
                    return Duration.ofHours(n);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("duration out of range: \"" + text + "\"");
        }
    }

    /**
     * Parses a size in bytes: plain digits, or digits with {@code B}, {@code KiB}, {@code MiB}, {@code GiB} (the
     * decimal {@code KB}, {@code MB}, {@code GB} are read as the binary units too, as nginx does).
     *
     * @param text the size text
     * @return the size in bytes
     */
    public static long parseSize(String text) {
        if (text == null) {
            throw new IllegalArgumentException("size is missing");
        }
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size (use e.g. 8192, 64KiB, 10MiB, 1GiB): \"" + text + "\"");
        }
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        int shift = unit.startsWith("K") ? 10 : unit.startsWith("M") ? 20 : unit.startsWith("G") ? 30 : 0;
        try {
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size out of range: \"" + text + "\"");
        }
    }

    /** @return {@code d}, if it is positive */
    static Duration positive(Duration d, String what) {
        if (d == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d.toMillis() + "ms");
        }
        return d;
    }

    /** @return {@code n}, if it lies in [min, max] */
    static long inRange(long n, long min, long max, String what) {
        if (n < min || n > max) {
            throw new IllegalArgumentException(what + " must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }

    /**
     * Validates a route path prefix: starts with {@code /}, no query, fragment, whitespace or control characters.
     * A trailing slash is removed (except for {@code /} itself), since matching is on segment boundaries anyway.
     */
    static String routePath(String path) {
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("path is missing");
        }
        if (path.charAt(0) != '/') {
            throw new IllegalArgumentException("path must start with \"/\": \"" + path + "\"");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c == '?' || c == '#' || c >= 0x7f) {
                throw new IllegalArgumentException("path may not contain spaces, controls, '?' or '#': \"" + path + "\"");
            }
        }
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /**
     * Validates a route host: empty (any host), an exact name, or a {@code *.suffix} wildcard. Lower-cased, since
     * host matching is case-insensitive.
     */
    static String routeHost(String host) {
        if (host == null || host.isEmpty()) {
            return "";
        }
        String h = host.toLowerCase(Locale.ROOT);
        String name = h.startsWith("*.") ? h.substring(2) : h;
        if (name.isEmpty() || !name.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")) {
            throw new IllegalArgumentException("not a host name or *.wildcard: \"" + host + "\"");
        }
        return h;
    }

    /**
     * Parses {@code host:port}; the host may be a name, an IPv4 address or a bracketed IPv6 address.
     */
    static ListenAddress hostPort(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("address is missing (use host:port)");
        }
        String t = text.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("not host:port: \"" + text + "\"");
        }
        String host = t.substring(0, colon);
        String port = t.substring(colon + 1);
        if (host.startsWith("[") || host.endsWith("]")) {
            if (!host.startsWith("[") || !host.endsWith("]") || host.length() < 3) {
                throw new IllegalArgumentException("unbalanced brackets in \"" + text + "\"");
            }
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("an IPv6 host needs brackets, e.g. [::1]:8080: \"" + text + "\"");
        }
        if (!port.matches("\\d{1,5}")) {
            throw new IllegalArgumentException("not a port number in \"" + text + "\"");
        }
        return new ListenAddress(host, Integer.parseInt(port));
    }

}
