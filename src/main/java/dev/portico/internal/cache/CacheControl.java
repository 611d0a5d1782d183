package dev.portico.internal.cache;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The directives of {@code Cache-Control} field lines (RFC 9111 section 5.2): names lower-cased, values unquoted,
 * the first occurrence of a directive winning. Immutable.
 */
final class CacheControl {
    static final CacheControl EMPTY = new CacheControl(Map.of());

    private final Map<String, String> directives;

    private CacheControl(Map<String, String> directives) {
        this.directives = directives;
    }

    /** @param lines every {@code Cache-Control} line of a message */
    static CacheControl parse(List<String> lines) {
        if (lines.isEmpty()) {
            return EMPTY;
        }
        Map<String, String> d = new HashMap<>();
        for (String line : lines) {
            int i = 0;
            int n = line.length();
            while (i < n) {
                while (i < n && (line.charAt(i) == ',' || line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
                    i++;
                }
                int start = i;
                while (i < n && line.charAt(i) != '=' && line.charAt(i) != ',') {
                    i++;
                }
                String name = line.substring(start, i).trim().toLowerCase(Locale.ROOT);
                String value = "";
                if (i < n && line.charAt(i) == '=') {
                    i++;
                    if (i < n && line.charAt(i) == '"') {
                        StringBuilder sb = new StringBuilder();
                        i++;
                        while (i < n && line.charAt(i) != '"') {
                            if (line.charAt(i) == '\\' && i + 1 < n) {
                                i++;
                            }
                            sb.append(line.charAt(i++));
                        }
                        i++;
                        value = sb.toString();
                        while (i < n && line.charAt(i) != ',') {
                            i++;
                        }
                    } else {
                        int vs = i;
                        while (i < n && line.charAt(i) != ',') {
                            i++;
                        }
                        value = line.substring(vs, i).trim();
                    }
                }
                if (!name.isEmpty()) {
                    d.putIfAbsent(name, value);
                }
            }
        }
        return new CacheControl(d);
    }

    /**
     * The {@code Surrogate-Control} directives (W3C Edge Architecture) meant for this cache: those without a target
     * and those whose {@code ;target} is {@code target}, the target removed.
     */
    static CacheControl surrogate(List<String> lines, String target) {
        if (lines.isEmpty()) {
            return EMPTY;
        }
        StringBuilder mine = new StringBuilder();
        for (String line : lines) {
            for (String d : line.split(",")) {
                int semi = d.indexOf(';');
                if (semi >= 0 && !d.substring(semi + 1).trim().equalsIgnoreCase(target)) {
                    continue;
                }
                mine.append(semi >= 0 ? d.substring(0, semi) : d).append(',');
            }
        }
        return parse(List.of(mine.toString()));
    }

    boolean has(String name) {
        return directives.containsKey(name);
    }

    /**
     * @return the directive's delta-seconds (RFC 9111 section 1.2.2), capped at 2^31; -1 if absent; -2 if present
     *     but not a number (an invalid value, which RFC 9111 says to treat as stale where it gives freshness)
     */
    long seconds(String name) {
        String v = directives.get(name);
        if (v == null) {
            return -1;
        }
        if (v.isEmpty()) {
            return -2;
        }
        long n = 0;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -2;
            }
            n = Math.min(n * 10 + (c - '0'), 1L << 31);
        }
        return n;
    }

    /** @return the directive's value ({@code ""} when it has none), or {@code null} if absent */
    String value(String name) {
        return directives.get(name);
    }
}
