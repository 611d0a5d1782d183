package dev.portico.config;

import dev.portico.policy.Headers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code compress} policy: responses of the listed media types are compressed on their way to clients that
 * accept one of the configured encodings ({@code Accept-Encoding}, q-values honoured), chunk by chunk as they
 * stream. Responses already encoded, marked {@code Cache-Control: no-transform}, partial (206) or answering a range
 * request, to {@code HEAD}, without content (204, 304), shorter than {@code min_length} by their
 * {@code Content-Length}, or to an upgrade request are sent as they are. An encoding whose native library cannot
 * load on this machine is skipped (one warning at start-up).
 *
 * @param encodings the encodings Portico may use, in its order of preference among those the client weighs
 *     equally: {@code zstd}, {@code br}, {@code gzip}
 * @param minLength responses whose {@code Content-Length} is below this are not compressed (an unknown length is)
 * @param types media types compressed: {@code type/subtype}, or {@code type/*} for a whole type; parameters such as
 *     {@code charset} are ignored when matching
 * @param levels the compression level of each encoding: gzip 1 to 9, br 0 to 11, zstd 1 to 19
 */
public record CompressPolicyConfig(List<String> encodings, long minLength, List<String> types,
                                   Map<String, Integer> levels) implements PolicyConfig {
    /** The encodings Portico knows, in its default order of preference. */
    public static final List<String> DEFAULT_ENCODINGS = List.of("zstd", "br", "gzip");
    /** Responses shorter than this (by {@code Content-Length}) are not compressed by default. */
    public static final long DEFAULT_MIN_LENGTH = 1024;
    /** The media types compressed by default. */
    public static final List<String> DEFAULT_TYPES = List.of("text/*", "application/json",
            "application/javascript", "application/xml", "image/svg+xml");
    /** The default levels: fast settings that still compress text well. */
    public static final Map<String, Integer> DEFAULT_LEVELS = Map.of("gzip", 5, "br", 4, "zstd", 3);

    /** Validates the encodings, types and levels, and fills in the default level of an encoding not given one. */
    public CompressPolicyConfig {
        encodings = List.copyOf(encodings);
        types = List.copyOf(types);
        Objects.requireNonNull(levels, "levels");
        if (encodings.isEmpty()) {
            throw new IllegalArgumentException("encodings must name at least one of zstd, br, gzip");
        }
        for (String e : encodings) {
            checkEncoding(e, "encodings");
        }
        if (encodings.stream().distinct().count() != encodings.size()) {
            throw new IllegalArgumentException("encodings names an encoding twice: " + encodings);
        }
        if (minLength < 0) {
            throw new IllegalArgumentException("min_length must not be negative");
        }
        if (types.isEmpty()) {
            throw new IllegalArgumentException("types must name at least one media type");
        }
        List<String> lower = new ArrayList<>(types.size());
        for (String t : types) {
            lower.add(checkType(t));
        }
        types = List.copyOf(lower);
        Map<String, Integer> all = new LinkedHashMap<>(DEFAULT_LEVELS);
        for (Map.Entry<String, Integer> e : levels.entrySet()) {
            checkEncoding(e.getKey(), "level");
            int v = Objects.requireNonNull(e.getValue(), "level");
            try {
                checkLevel(e.getKey(), v);
            } catch (IllegalArgumentException bad) {
                throw new IllegalArgumentException("level " + e.getKey() + " " + bad.getMessage());
            }
            all.put(e.getKey(), v);
        }
        levels = Map.copyOf(all);
    }

    private static void checkEncoding(String e, String key) {
        if (!DEFAULT_ENCODINGS.contains(e)) {
            throw new IllegalArgumentException(key + " names an unknown encoding \"" + e
                    + "\" (known: zstd, br, gzip)");
        }
    }

    /** Checks a known encoding's level: gzip 1-9, br 0-11, zstd 1-19 (no ultra levels: their windows are huge). */
    static void checkLevel(String encoding, int level) {
        int min = encoding.equals("br") ? 0 : 1;
        int max = switch (encoding) {
            case "gzip" -> 9;
            case "br" -> 11;
            default -> 19;
        };
        if (level < min || level > max) {
            throw new IllegalArgumentException("must be between " + min + " and " + max + ", got " + level);
        }
    }

    /** A media type pattern, lower case: {@code type/subtype} or {@code type/*} (tokens, no parameters). */
    private static String checkType(String t) {
        String s = t.trim().toLowerCase(Locale.ROOT);
        int slash = s.indexOf('/');
        String type = slash < 0 ? "" : s.substring(0, slash);
        String sub = slash < 0 ? "" : s.substring(slash + 1);
        boolean ok = !type.equals("*") && Headers.isFieldName(type) && (sub.equals("*") || Headers.isFieldName(sub));
        if (!ok) {
            throw new IllegalArgumentException("types has \"" + t + "\", not a media type such as text/html or text/*");
        }
        return s;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the policy with every default */
    public static CompressPolicyConfig defaults() {
        return builder().build();
    }

    /**
     * @param encoding {@code gzip}, {@code br} or {@code zstd}
     * @return its level
     */
    public int level(String encoding) {
        return levels.get(encoding);
    }

    @Override
    public String type() {
        return "compress";
    }

    /** Builds {@link CompressPolicyConfig}. Not thread-safe. */
    public static final class Builder {
        private List<String> encodings = DEFAULT_ENCODINGS;
        private long minLength = DEFAULT_MIN_LENGTH;
        private List<String> types = DEFAULT_TYPES;
        private final Map<String, Integer> levels = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * @param value the encodings in order of preference
         * @return this
         */
        public Builder encodings(String... value) {
            this.encodings = List.of(value);
            return this;
        }

        /**
         * @param value the smallest {@code Content-Length} compressed, in bytes
         * @return this
         */
        public Builder minLength(long value) {
            this.minLength = value;
            return this;
        }

        /**
         * @param value the media types compressed ({@code type/subtype} or {@code type/*})
         * @return this
         */
        public Builder types(String... value) {
            this.types = List.of(value);
            return this;
        }

        /**
         * @param encoding {@code gzip}, {@code br} or {@code zstd}
         * @param value its level
         * @return this
         */
        public Builder level(String encoding, int value) {
            levels.put(encoding, value);
            return this;
        }

        /** @return the policy */
        public CompressPolicyConfig build() {
            return new CompressPolicyConfig(encodings, minLength, types, levels);
        }
    }
}
