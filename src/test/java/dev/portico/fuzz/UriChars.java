package dev.portico.fuzz;

/** RFC 3986 character classes for the strict parser: origin-form targets and {@code uri-host [ ":" port ]}. */
final class UriChars {
    private static final String SUB_DELIMS = "!$&'()*+,;=";
    private static final String UNRESERVED_PUNCT = "-._~";

    private UriChars() {
    }

    /** absolute-path [ "?" query ]: pchar, "/" and "?", percent signs followed by two hex digits. */
    static boolean isPathAndQuery(String s) {
        if (!s.startsWith("/")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || !isHex(s.charAt(i + 1)) || !isHex(s.charAt(i + 2))) {
                    return false;
                }
                i += 2;
            } else if (!(isUnreserved(c) || SUB_DELIMS.indexOf(c) >= 0 || c == ':' || c == '@' || c == '/'
                    || c == '?')) {
                return false;
            }
        }
        return true;
    }

    /** uri-host [ ":" port ] with a non-empty host: IP-literal in brackets, or reg-name / IPv4address. */
    static boolean isHostPort(String s) {
        String host;
        String port = "";
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 2) {
                return false;
            }
            for (int i = 1; i < close; i++) {
                char c = s.charAt(i);
                if (!(isHex(c) || c == ':' || c == '.')) {
                    return false;
                }
            }
            String after = s.substring(close + 1);
            if (!after.isEmpty() && !after.startsWith(":")) {
                return false;
            }
            port = after.isEmpty() ? "" : after.substring(1);
            host = s.substring(0, close + 1);
        } else {
            int colon = s.lastIndexOf(':');
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? "" : s.substring(colon + 1);
            if (host.isEmpty()) {
                return false;
            }
            for (int i = 0; i < host.length(); i++) {
                char c = host.charAt(i);
                if (c == '%') {
                    if (i + 2 >= host.length() || !isHex(host.charAt(i + 1)) || !isHex(host.charAt(i + 2))) {
                        return false;
                    }
                    i += 2;
                } else if (!(isUnreserved(c) || SUB_DELIMS.indexOf(c) >= 0)) {
                    return false;
                }
            }
        }
        return port.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static boolean isUnreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || UNRESERVED_PUNCT.indexOf(c) >= 0;
    }

    static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
