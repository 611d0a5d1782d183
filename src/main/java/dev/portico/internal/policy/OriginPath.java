package dev.portico.internal.policy;

/** The {@code absolute-path} of an origin-form target (RFC 9112 section 3.2.1, RFC 3986 section 3.3). */
final class OriginPath {
    private OriginPath() {
    }

    /** @return whether {@code p} is one or more {@code "/" segment}: pchars and valid percent-encodings only */
    static boolean valid(String p) {
        if (p.isEmpty() || p.charAt(0) != '/') {
            return false;
        }
        for (int i = 1; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '%') {
                if (i + 2 >= p.length() || !hex(p.charAt(i + 1)) || !hex(p.charAt(i + 2))) {
                    return false;
                }
                i += 2;
            } else if (!pchar(c) && c != '/') {
                return false;
            }
        }
        return true;
    }

    private static boolean pchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~!$&'()*+,;=:@".indexOf(c) >= 0;
    }

    private static boolean hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
