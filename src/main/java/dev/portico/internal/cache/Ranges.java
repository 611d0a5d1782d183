package dev.portico.internal.cache;

/** Parses a {@code Range} of one byte range (RFC 9110 section 14.1.2); several ranges are not answered here. */
final class Ranges {
    private static final long[] UNSATISFIABLE = new long[0];

    private Ranges() {
    }

    /**
     * @param range the field's value
     * @param length the representation's length
     * @return {first, last}; an empty array if unsatisfiable; {@code null} if not one valid byte range (the whole
     *     representation is sent then)
     */
    static long[] single(String range, long length) {
        String r = range.trim();
        if (!r.regionMatches(true, 0, "bytes=", 0, 6) || r.indexOf(',') >= 0) {
            return null;
        }
        String spec = r.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        try {
            if (a.isEmpty()) {
                long suffix = digits(b);
                if (suffix == 0) {
                    return UNSATISFIABLE;
                }
                return length == 0 ? UNSATISFIABLE : new long[] {Math.max(0, length - suffix), length - 1};
            }
            long first = digits(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : digits(b);
            if (last < first) {
                return null;
            }
            if (first >= length) {
                return UNSATISFIABLE;
            }
            return new long[] {first, Math.min(last, length - 1)};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long digits(String s) {
        if (s.isEmpty() || s.length() > 18) {
            throw new NumberFormatException(s);
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                throw new NumberFormatException(s);
            }
        }
        return Long.parseLong(s);
    }
}
