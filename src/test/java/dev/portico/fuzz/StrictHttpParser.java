package dev.portico.fuzz;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An HTTP/1.1 request parser written for the fuzz tests, independent of Netty and of Portico, that follows RFC 9112
 * to the letter: CRLF line endings only, a token method, a single SP between request-line parts, {@code HTTP/1.x},
 * field-name token + ':' + OWS value (VCHAR, obs-text and inner SP/HTAB only), exactly one valid Host for HTTP/1.1,
 * at most one framing header (a single Content-Length of digits, or Transfer-Encoding exactly {@code chunked}), and
 * strict chunk syntax (hex size, RFC chunk-ext grammar, CRLF after the data, strict trailer fields).
 * <p>
 * {@link Mode#UPSTREAM} is what a backend behind Portico must receive (origin-form, HTTP/1.1);
 * {@link Mode#CLIENT} is the reference for what a client may send (also absolute-form, HTTP/1.0, leading empty
 * lines as RFC 9112 section 2.2 allows).
 */
final class StrictHttpParser {
    enum Mode { CLIENT, UPSTREAM }

    /**
     * Why a request is invalid. {@code hard} reasons are those DESIGN.md section 6 and the README's "Strict parsing"
     * say Portico must reject; the others are strict-RFC points where a lenient but safe proxy may differ.
     */
    enum Reason {
        BARE_LF(true), BARE_CR(false), OBS_FOLD(true), WS_IN_FIELD_NAME(true), BAD_FIELD_NAME(false),
        CTL_IN_VALUE(true), BAD_METHOD(false), BAD_TARGET(false), BAD_REQUEST_LINE(false), LEADING_JUNK(false), BAD_VERSION(true),
        HOST_MISSING(true), HOST_REPEATED(true), BAD_HOST(false), CL_AND_TE(true), BAD_CONTENT_LENGTH(true),
        CL_CONFLICT(true), CL_DUPLICATE(false), TE_NOT_CHUNKED(true), TE_IN_HTTP10(false), BAD_CHUNK_SIZE(true),
        BAD_CHUNK_LINE_END(true), BAD_CHUNK_DATA_END(true), BAD_CHUNK_EXT(false), BAD_TRAILER(false), LEADING_EMPTY_LINE(false), TOO_LARGE(true);

        final boolean hard;

        Reason(boolean hard) {
            this.hard = hard;
        }
    }

    /** A header or trailer field, the value with OWS trimmed. */
    record Field(String name, String value) {
        @Override
        public String toString() {
            return name + ": " + value;
        }
    }

    /** A complete request; {@code length} is how many bytes it took, from the offset it was parsed at. */
    record Request(String method, String target, String version, List<Field> headers, byte[] body, boolean chunked,
                   List<Field> trailers, int length) {
        List<String> all(String name) {
            List<String> out = new ArrayList<>();
            for (Field f : headers) {
                if (f.name().equalsIgnoreCase(name)) {
                    out.add(f.value());
                }
            }
            return out;
        }

        /** @return the authority of an absolute-form target, or null */
        String authority() {
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

        /** @return the target in origin-form (absolute-form reduced to path and query) */
        String originForm() {
            String a = authority();
            if (a == null) {
                return target;
            }
            String rest = target.substring(target.indexOf("://") + 3 + a.length());
            return rest.isEmpty() ? "/" : rest.startsWith("?") ? "/" + rest : rest;
        }
    }

    /** The outcome of parsing from an offset. */
    sealed interface Result permits Complete, Incomplete, Invalid {
    }

    record Complete(Request request) implements Result {
    }

    /** The bytes end before the request does, with nothing invalid so far. */
    record Incomplete() implements Result {
    }

    /** @param inBody whether the head was valid and the body broke (then {@code head} is the parsed head) */
    record Invalid(Reason reason, String detail, int offset, boolean inBody, Request head) implements Result {
        @Override
        public String toString() {
            return reason + " at +" + offset + " (" + detail + ")" + (inBody ? " in body" : "");
        }
    }

    private static final int MAX_HEAD = 64 * 1024;

    private static final String TCHAR = "!#$%&'*+-.^_`|~";

    private static final class NeedMore extends RuntimeException {
        NeedMore() {
            super(null, null, false, false);
        }
    }

    private static final class Bad extends RuntimeException {
        final Reason reason;
        final int at;

        Bad(Reason reason, String detail, int at) {
            super(detail, null, false, false);
            this.reason = reason;
            this.at = at;
        }
    }

    private final byte[] b;
    private final int start;
    private final int end;
    private final Mode mode;
    private int pos;

    private StrictHttpParser(byte[] b, int from, int to, Mode mode) {
        this.b = b;
        this.start = from;
        this.end = to;
        this.mode = mode;
        this.pos = from;
    }

    /** Parses one request from {@code buf[from, to)}. */
    static Result parse(byte[] buf, int from, int to, Mode mode) {
        StrictHttpParser p = new StrictHttpParser(buf, from, to, mode);
        Request head;
        try {
            head = p.head();
        } catch (NeedMore e) {
            return new Incomplete();
        } catch (Bad e) {
            return new Invalid(e.reason, e.getMessage(), e.at - from, false, null);
        }
        try {
            return new Complete(p.body(head));
        } catch (NeedMore e) {
            return new Incomplete();
        } catch (Bad e) {
            return new Invalid(e.reason, e.getMessage(), e.at - from, true, head);
        }
    }

    /** Parses back-to-back requests until the bytes end or one is incomplete or invalid; the last is not Complete. */
    static List<Result> parseAll(byte[] buf, Mode mode) {
        List<Result> out = new ArrayList<>();
        int at = 0;
        while (at < buf.length) {
            Result r = parse(buf, at, buf.length, mode);
            out.add(r);
            if (!(r instanceof Complete)) {
                break;
            }
            at += ((Complete) r).request().length();
        }
        return out;
    }

    private Request head() {
        if (mode == Mode.CLIENT) {
            while (pos < end && (b[pos] == '\r' || b[pos] == '\n')) {
                String l = line(false);
                if (!l.isEmpty()) {
                    throw new Bad(Reason.BAD_REQUEST_LINE, "junk before request line", pos);
                }
            }
        }
        if (mode == Mode.CLIENT && pos < end && (b[pos] <= ' ' || b[pos] == 0x7f)) {
            throw new Bad(Reason.LEADING_JUNK, "whitespace or control before the request line", pos);
        }
        int lineStart = pos;
        String requestLine = line(false);
        if (requestLine.isEmpty()) {
            throw new Bad(Reason.LEADING_EMPTY_LINE, "empty line before request line", lineStart);
        }
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3) {
            throw new Bad(Reason.BAD_REQUEST_LINE, "request line is not method SP target SP version", lineStart);
        }
        if (!isToken(parts[0])) {
            throw new Bad(Reason.BAD_METHOD, "method is not a token", lineStart);
        }
        String version = parts[2];
        boolean v11 = version.equals("HTTP/1.1");
        if (!v11 && !(mode == Mode.CLIENT && version.equals("HTTP/1.0"))) {
            throw new Bad(Reason.BAD_VERSION, "version " + version, lineStart);
        }
        checkTarget(parts[0], parts[1], lineStart);
        List<Field> headers = fields(Reason.BAD_FIELD_NAME);
        List<Field> hosts = named(headers, "host");
        if (hosts.size() > 1) {
            throw new Bad(Reason.HOST_REPEATED, "Host repeated", lineStart);
        }
        if (hosts.isEmpty() && v11) {
            throw new Bad(Reason.HOST_MISSING, "no Host", lineStart);
        }
        if (!hosts.isEmpty() && !UriChars.isHostPort(hosts.get(0).value())) {
            throw new Bad(Reason.BAD_HOST, "Host " + hosts.get(0).value(), lineStart);
        }
        List<Field> te = named(headers, "transfer-encoding");
        List<Field> cl = named(headers, "content-length");
        if (!te.isEmpty() && !cl.isEmpty()) {
            throw new Bad(Reason.CL_AND_TE, "Content-Length and Transfer-Encoding", lineStart);
        }
        if (!te.isEmpty() && !v11) {
            throw new Bad(Reason.TE_IN_HTTP10, "Transfer-Encoding in HTTP/1.0", lineStart);
        }
        if (te.size() > 1 || (te.size() == 1 && !te.get(0).value().toLowerCase(Locale.ROOT).equals("chunked"))) {
            throw new Bad(Reason.TE_NOT_CHUNKED, "Transfer-Encoding " + te, lineStart);
        }
        for (Field f : cl) {
            if (f.value().isEmpty() || !f.value().chars().allMatch(c -> c >= '0' && c <= '9')
                    || f.value().replaceFirst("^0+", "").length() > 18) {
                throw new Bad(Reason.BAD_CONTENT_LENGTH, "Content-Length " + f.value(), lineStart);
            }
        }
        if (cl.size() > 1) {
            boolean same = cl.stream().map(f -> Long.parseLong(f.value())).distinct().count() == 1;
            throw new Bad(same ? Reason.CL_DUPLICATE : Reason.CL_CONFLICT, "Content-Length " + cl, lineStart);
        }
        return new Request(parts[0], parts[1], version, headers, null, te.size() == 1, List.of(), 0);
    }

    private void checkTarget(String method, String target, int at) {
        if (target.equals("*") && method.equals("OPTIONS")) {
            return;
        }
        String rest = target;
        if (mode == Mode.CLIENT && target.regionMatches(true, 0, "http://", 0, 7)) {
            int e = 7;
            while (e < target.length() && target.charAt(e) != '/' && target.charAt(e) != '?') {
                e++;
            }
            if (!UriChars.isHostPort(target.substring(7, e))) {
                throw new Bad(Reason.BAD_TARGET, "bad authority in target", at);
            }
            rest = e == target.length() ? "/" : target.charAt(e) == '?' ? "/" + target.substring(e) : target.substring(e);
        }
        if (!rest.startsWith("/") || !UriChars.isPathAndQuery(rest)) {
            throw new Bad(Reason.BAD_TARGET, "target is not origin-form", at);
        }
    }

    /** Field lines up to the empty line that ends them. */
    private List<Field> fields(Reason nameReason) {
        List<Field> out = new ArrayList<>();
        while (true) {
            int lineStart = pos;
            String l = line(nameReason == Reason.BAD_TRAILER);
            if (l.isEmpty()) {
                return out;
            }
            if (l.charAt(0) == ' ' || l.charAt(0) == '\t') {
                throw new Bad(Reason.OBS_FOLD, "obs-fold", lineStart);
            }
            int colon = l.indexOf(':');
            String name = colon < 0 ? l : l.substring(0, colon);
            if (name.indexOf(' ') >= 0 || name.indexOf('\t') >= 0) {
                throw new Bad(Reason.WS_IN_FIELD_NAME, "whitespace in field name", lineStart);
            }
            if (colon < 0 || !isToken(name)) {
                throw new Bad(nameReason, "field name is not a token", lineStart);
            }
            String value = trimOws(l.substring(colon + 1));
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    throw new Bad(nameReason == Reason.BAD_TRAILER ? Reason.BAD_TRAILER : Reason.CTL_IN_VALUE,
                            "control character in field value", lineStart);
                }
            }
            out.add(new Field(name, value));
        }
    }

    private Request body(Request head) {
        List<Field> cl = named(head.headers(), "content-length");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<Field> trailers = List.of();
        if (!cl.isEmpty()) {
            long n = Long.parseLong(cl.get(0).value());
            if (end - pos < n) {
                throw new NeedMore();
            }
            body.write(b, pos, (int) n);
            pos += (int) n;
        } else if (head.chunked()) {
            while (true) {
                int lineStart = pos;
                String l = line(true);
                int i = 0;
                while (i < l.length() && UriChars.isHex(l.charAt(i))) {
                    i++;
                }
                String digits = l.substring(0, i).replaceFirst("^0+(?=.)", "");
                if (i == 0 || digits.length() > 7) {
                    throw new Bad(Reason.BAD_CHUNK_SIZE, "chunk size", lineStart);
                }
                long size = Long.parseLong(digits, 16);
                checkChunkExt(l.substring(i), lineStart);
                if (size == 0) {
                    trailers = fields(Reason.BAD_TRAILER);
                    break;
                }
                if (end - pos < size + 2) {
                    throw new NeedMore();
                }
                body.write(b, pos, (int) size);
                pos += (int) size;
                if (b[pos] != '\r' || b[pos + 1] != '\n') {
                    throw new Bad(Reason.BAD_CHUNK_DATA_END, "chunk data not followed by CRLF", pos);
                }
                pos += 2;
            }
        }
        return new Request(head.method(), head.target(), head.version(), head.headers(), body.toByteArray(),
                head.chunked(), trailers, pos - start);
    }

    /** chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) */
    private static void checkChunkExt(String ext, int at) {
        int i = 0;
        int n = ext.length();
        while (i < n) {
            i = skipWs(ext, i);
            if (i >= n || ext.charAt(i) != ';') {
                throw new Bad(Reason.BAD_CHUNK_EXT, "chunk extension", at);
            }
            i = skipWs(ext, i + 1);
            int s = i;
            while (i < n && isTchar(ext.charAt(i))) {
                i++;
            }
            if (i == s) {
                throw new Bad(Reason.BAD_CHUNK_EXT, "chunk extension name", at);
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
                            throw new Bad(Reason.BAD_CHUNK_EXT, "chunk extension quoted value", at);
                        }
                        i++;
                    }
                    if (i >= n) {
                        throw new Bad(Reason.BAD_CHUNK_EXT, "unterminated quoted value", at);
                    }
                    i++;
                } else {
                    s = i;
                    while (i < n && isTchar(ext.charAt(i))) {
                        i++;
                    }
                    if (i == s) {
                        throw new Bad(Reason.BAD_CHUNK_EXT, "chunk extension value", at);
                    }
                }
            }
        }
    }

    /** One line without its CRLF; a bare LF or CR is invalid (in the chunked body, a framing error). */
    private String line(boolean inBody) {
        int s = pos;
        for (int i = pos; i < end; i++) {
            if (i - start > MAX_HEAD) {
                throw new Bad(Reason.TOO_LARGE, "head too large", i);
            }
            if (b[i] == '\n') {
                throw new Bad(inBody ? Reason.BAD_CHUNK_LINE_END : Reason.BARE_LF, "bare LF", i);
            }
            if (b[i] == '\r') {
                if (i + 1 >= end) {
                    throw new NeedMore();
                }
                if (b[i + 1] != '\n') {
                    throw new Bad(inBody ? Reason.BAD_CHUNK_LINE_END : Reason.BARE_CR, "bare CR", i);
                }
                pos = i + 2;
                return new String(b, s, i - s, java.nio.charset.StandardCharsets.ISO_8859_1);
            }
        }
        throw new NeedMore();
    }

    private static List<Field> named(List<Field> fields, String name) {
        return fields.stream().filter(f -> f.name().equalsIgnoreCase(name)).toList();
    }

    static boolean isToken(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> isTchar((char) c));
    }

    static boolean isTchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || TCHAR.indexOf(c) >= 0;
    }

    private static int skipWs(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    private static String trimOws(String s) {
        int a = 0;
        int z = s.length();
        while (a < z && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) {
            a++;
        }
        while (z > a && (s.charAt(z - 1) == ' ' || s.charAt(z - 1) == '\t')) {
            z--;
        }
        return s.substring(a, z);
    }
}
