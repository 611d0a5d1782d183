package dev.portico.fuzz;

/**
 * The grammar rules the strict parser checks strings against: RFC 3986 origin-form targets and
 * {@code uri-host [ ":" port ]}, RFC 9110 tokens, RFC 9112 chunk extensions.
 */
final class Grammar {
    private static final String TCHAR = "!#$%&'*+-.^_`|~";
    private static final String SUB_DELIMS = "!$&'()*+,;=";
    private static final String UNRESERVED_PUNCT = "-._~";

    private Grammar() {
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

    static boolean isToken(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> isTchar((char) c));
    }

    static boolean isTchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || TCHAR.indexOf(c) >= 0;
    }

    /** Printable ASCII only (no SP, no controls, no obs-text). */
    static boolean isVisibleAscii(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    /** chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) */
    static boolean isChunkExt(String ext) {
        int i = 0;
        int n = ext.length();
        while (i < n) {
            i = skipWs(ext, i);
            if (i >= n || ext.charAt(i) != ';') {
                return false;
            }
            i = skipWs(ext, i + 1);
            int s = i;
            while (i < n && isTchar(ext.charAt(i))) {
                i++;
            }
            if (i == s) {
                return false;
            }
            int j = skipWs(ext, i);
            if (j < n && ext.charAt(j) == '=') {
                i = skipWs(ext, j + 1);
                if (i < n && ext.charAt(i) == '"') {
                    i++;
                    while (i < n && ext.charAt(i) != '"') {
                        char c = ext.charAt(i);
                        if (c == '\\') {
                            i++;
                            c = i < n ? ext.charAt(i) : 0;
                        }
                        if ((c < 0x20 && c != '\t') || c == 0x7f) {
                            return false;
                        }
                        i++;
                    }
                    if (i >= n) {
                        return false;
                    }
                    i++;
                } else {
                    s = i;
                    while (i < n && isTchar(ext.charAt(i))) {
                        i++;
                    }
                    if (i == s) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    static int skipWs(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    static String trimOws(String s) {
        int a = skipWs(s, 0);
        int z = s.length();
        while (z > a && (s.charAt(z - 1) == ' ' || s.charAt(z - 1) == '\t')) {
            z--;
        }
        return s.substring(a, z);
    }

    /** @return the authority of an absolute-form target, or null */
    static String authority(String target) {
        int s = target.indexOf("://");
        if (target.startsWith("/") || s < 0) {
            return null;
        }
        int e = s + 3;
        while (e < target.length() && target.charAt(e) != '/' && target.charAt(e) != '?') {
            e++;
        }
        return target.substring(s + 3, e);
    }

    /** @return the target in origin-form: absolute-form reduced to path (at least "/") and query */
    static String originForm(String target) {
        String a = authority(target);
        if (a == null) {
            return target;
        }
        String rest = target.substring(target.indexOf("://") + 3 + a.length());
        return rest.isEmpty() ? "/" : rest.startsWith("?") ? "/" + rest : rest;
    }
}
