package dev.portico.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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
 * <p>
 * Some soft {@link Reason}s can be <em>tolerated</em>: the parser then goes on the way a lenient but safe recipient
 * would (RFC 9112 section 3 allows splitting the request line on any whitespace, chunk extensions are ignored,
 * malformed trailer lines dropped, ...) and lists the reason in {@link Request#tolerated()}. That yields what a
 * lenient proxy should have forwarded, to compare with what it did.
 */
final class StrictHttpParser {
    enum Mode { CLIENT, UPSTREAM }

    /**
     * Why a request is invalid. {@code hard} reasons are those DESIGN.md section 6 and the README's "Strict parsing"
     * say Portico must reject, or that leave no safe way to read the request; the others are strict-RFC points where
     * a lenient but safe proxy may differ.
     */
    enum Reason {
        BARE_LF(true), BARE_CR(false), OBS_FOLD(true), WS_IN_FIELD_NAME(true), BAD_FIELD_NAME(true),
        CTL_IN_VALUE(true), BAD_METHOD(true), TARGET_CHARS(true), BAD_TARGET(false), REQUEST_LINE_PARTS(true),
        BAD_REQUEST_LINE(false), LEADING_JUNK(false), BAD_VERSION(true), HOST_MISSING(true), HOST_REPEATED(true),
        BAD_HOST(true), CL_AND_TE(true), BAD_CONTENT_LENGTH(true), CL_CONFLICT(true), CL_DUPLICATE(false),
        TE_NOT_CHUNKED(true), TE_IN_HTTP10(false), BAD_CHUNK_SIZE(true), BAD_CHUNK_LINE_END(true),
        BAD_CHUNK_DATA_END(true), BAD_CHUNK_EXT(false), BAD_TRAILER(false), LEADING_EMPTY_LINE(false),
        TOO_LARGE(true);

        final boolean hard;

        Reason(boolean hard) {
            this.hard = hard;
        }
    }

    /** Every soft reason the parser knows how to read past. */
    static final Set<Reason> TOLERABLE = EnumSet.of(Reason.BAD_REQUEST_LINE, Reason.LEADING_JUNK, Reason.BAD_TARGET,
            Reason.CL_DUPLICATE, Reason.TE_IN_HTTP10, Reason.BAD_CHUNK_EXT, Reason.BAD_TRAILER);

    /** A header or trailer field, the value with OWS trimmed. */
    record Field(String name, String value) {
        @Override
        public String toString() {
            return name + ": " + value;
        }
    }

    /**
     * A complete request; {@code length} is how many bytes it took, from the offset it was parsed at, and
     * {@code tolerated} the soft reasons read past (empty for a strictly valid request).
     */
    record Request(String method, String target, String version, List<Field> headers, byte[] body, boolean chunked,
                   List<Field> trailers, int length, List<Reason> tolerated) {
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
            return Grammar.authority(target);
        }

        /** @return the target in origin-form (absolute-form reduced to path and query) */
        String originForm() {
            return Grammar.originForm(target);
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

    /** @param inBody whether the head was valid and the body broke */
    record Invalid(Reason reason, String detail, int offset, boolean inBody) implements Result {
        @Override
        public String toString() {
            return reason + " at +" + offset + " (" + detail + ")" + (inBody ? " in body" : "");
        }
    }

    private static final int MAX_HEAD = 64 * 1024;


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
    private final Set<Reason> tolerate;
    private final List<Reason> tolerated = new ArrayList<>();
    private int pos;

    private StrictHttpParser(byte[] b, int from, int to, Mode mode, Set<Reason> tolerate) {
        this.b = b;
        this.start = from;
        this.end = to;
        this.mode = mode;
        this.tolerate = tolerate;
        this.pos = from;
    }

    /** Parses one request from {@code buf[from, to)}, strictly. */
    static Result parse(byte[] buf, int from, int to, Mode mode) {
        return parse(buf, from, to, mode, Set.of());
    }

    /** Parses one request from {@code buf[from, to)}, reading past the {@code tolerate}d soft reasons. */
    static Result parse(byte[] buf, int from, int to, Mode mode, Set<Reason> tolerate) {
        StrictHttpParser p = new StrictHttpParser(buf, from, to, mode, tolerate);
        Head head;
        try {
            head = p.head();
        } catch (NeedMore e) {
            return new Incomplete();
        } catch (Bad e) {
            return new Invalid(e.reason, e.getMessage(), e.at - from, false);
        }
        try {
            return new Complete(p.body(head));
        } catch (NeedMore e) {
            return new Incomplete();
        } catch (Bad e) {
            return new Invalid(e.reason, e.getMessage(), e.at - from, true);
        }
    }

    /** Parses back-to-back requests until the bytes end or one is incomplete or invalid; the last is not Complete. */
    static List<Result> parseAll(byte[] buf, Mode mode, Set<Reason> tolerate) {
        List<Result> out = new ArrayList<>();
        int at = 0;
        while (at < buf.length) {
            Result r = parse(buf, at, buf.length, mode, tolerate);
            out.add(r);
            if (!(r instanceof Complete)) {
                break;
            }
            at += ((Complete) r).request().length();
        }
        return out;
    }

    private record Head(String method, String target, String version, List<Field> headers, boolean chunked,
                        long contentLength) {
    }

    /** A soft violation: tolerated (noted) or thrown. */
    private void soft(Reason reason, String detail, int at) {
        if (!tolerate.contains(reason)) {
            throw new Bad(reason, detail, at);
        }
        tolerated.add(reason);
    }

    private Head head() {
        if (mode == Mode.CLIENT) {
            while (pos < end && b[pos] == '\r') {
                if (pos + 1 >= end) {
                    throw new NeedMore();
                }
                if (b[pos + 1] != '\n') {
                    break;
                }
                pos += 2; // RFC 9112 section 2.2: empty lines before a request line are ignored
            }
            if (pos < end && (b[pos] <= ' ' || b[pos] == 0x7f)) {
                soft(Reason.LEADING_JUNK, "whitespace or control before the request line", pos);
                while (pos < end && (b[pos] <= ' ' || b[pos] == 0x7f)) {
                    pos++;
                }
            }
        }
        int lineStart = pos;
        String requestLine = line(false);
        if (requestLine.isEmpty()) {
            throw new Bad(Reason.LEADING_EMPTY_LINE, "empty line before request line", lineStart);
        }
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3 || requestLine.matches(".*[\t\u000b\u000c].*")) {
            // RFC 9112 section 3: a recipient may split on any run of SP, HTAB, VT, FF.
            soft(Reason.BAD_REQUEST_LINE, "request line is not method SP target SP version", lineStart);
            parts = requestLine.trim().split("[ \t\u000b\u000c]+", -1);
        }
        if (parts.length != 3) {
            throw new Bad(Reason.REQUEST_LINE_PARTS, "request line has " + parts.length + " parts", lineStart);
        }
        if (!Grammar.isToken(parts[0])) {
            throw new Bad(Reason.BAD_METHOD, "method is not a token", lineStart);
        }
        String version = parts[2];
        boolean v11 = version.equals("HTTP/1.1");
        if (!v11 && !(mode == Mode.CLIENT && version.equals("HTTP/1.0"))) {
            throw new Bad(Reason.BAD_VERSION, "version " + version, lineStart);
        }
        checkTarget(parts[0], parts[1], lineStart);
        List<Field> headers = fields(false);
        List<Field> hosts = named(headers, "host");
        if (hosts.size() > 1) {
            throw new Bad(Reason.HOST_REPEATED, "Host repeated", lineStart);
        }
        if (hosts.isEmpty() && v11) {
            throw new Bad(Reason.HOST_MISSING, "no Host", lineStart);
        }
        if (!hosts.isEmpty() && !Grammar.isHostPort(hosts.get(0).value())) {
            // RFC 9112 section 3.2: a server MUST answer 400 to a Host field with an invalid value.
            throw new Bad(Reason.BAD_HOST, "Host " + hosts.get(0).value(), lineStart);
        }
        List<Field> te = named(headers, "transfer-encoding");
        List<Field> cl = named(headers, "content-length");
        if (!te.isEmpty() && !cl.isEmpty()) {
            throw new Bad(Reason.CL_AND_TE, "Content-Length and Transfer-Encoding", lineStart);
        }
        if (te.size() > 1 || (te.size() == 1 && !te.get(0).value().toLowerCase(Locale.ROOT).equals("chunked"))) {
            throw new Bad(Reason.TE_NOT_CHUNKED, "Transfer-Encoding " + te, lineStart);
        }
        if (!te.isEmpty() && !v11) {
            soft(Reason.TE_IN_HTTP10, "Transfer-Encoding in HTTP/1.0", lineStart);
        }
        for (Field f : cl) {
            if (f.value().isEmpty() || !f.value().chars().allMatch(c -> c >= '0' && c <= '9')
                    || f.value().replaceFirst("^0+", "").length() > 18) {
                throw new Bad(Reason.BAD_CONTENT_LENGTH, "Content-Length " + f.value(), lineStart);
            }
        }
        if (cl.size() > 1) {
            boolean same = cl.stream().map(f -> Long.parseLong(f.value())).distinct().count() == 1;
            if (!same) {
                throw new Bad(Reason.CL_CONFLICT, "Content-Length " + cl, lineStart);
            }
            soft(Reason.CL_DUPLICATE, "Content-Length " + cl, lineStart);
        }
        return new Head(parts[0], parts[1], version, headers, te.size() == 1,
                cl.isEmpty() ? -1 : Long.parseLong(cl.get(0).value()));
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
            if (!Grammar.isHostPort(target.substring(7, e))) {
                throw new Bad(Reason.BAD_HOST, "bad authority in target", at); // it becomes the Host
            }
            rest = e == target.length() ? "/" : target.charAt(e) == '?' ? "/" + target.substring(e) : target.substring(e);
        }
        if (!rest.startsWith("/") || !Grammar.isVisibleAscii(rest) || rest.indexOf('#') >= 0) {
            throw new Bad(Reason.TARGET_CHARS, "target is not origin-form", at);
        }
        if (!Grammar.isPathAndQuery(rest)) {
            soft(Reason.BAD_TARGET, "target is not RFC 3986 origin-form", at);
        }
    }

    /** Field lines up to the empty line that ends them; {@code trailer} makes bad lines BAD_TRAILER. */
    private List<Field> fields(boolean trailer) {
        List<Field> out = new ArrayList<>();
        while (true) {
            int lineStart = pos;
            String l = line(trailer);
            if (l.isEmpty()) {
                return out;
            }
            if (l.charAt(0) == ' ' || l.charAt(0) == '\t') {
                throw new Bad(Reason.OBS_FOLD, "obs-fold", lineStart);
            }
            int colon = l.indexOf(':');
            String name = colon < 0 ? l : l.substring(0, colon);
            if (!trailer && (name.indexOf(' ') >= 0 || name.indexOf('\t') >= 0)) {
                throw new Bad(Reason.WS_IN_FIELD_NAME, "whitespace in field name", lineStart);
            }
            String value = colon < 0 ? "" : Grammar.trimOws(l.substring(colon + 1));
            boolean ctl = value.chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f);
            if (colon < 0 || !Grammar.isToken(name) || ctl) {
                if (trailer) {
                    soft(Reason.BAD_TRAILER, "bad trailer field", lineStart);
                    continue;
                }
                throw new Bad(ctl && colon >= 0 && Grammar.isToken(name) ? Reason.CTL_IN_VALUE : Reason.BAD_FIELD_NAME,
                        ctl ? "control character in field value" : "field name is not a token", lineStart);
            }
            out.add(new Field(name, value));
        }
    }

    private Request body(Head head) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<Field> trailers = List.of();
        if (head.contentLength() >= 0) {
            if (end - pos < head.contentLength()) {
                throw new NeedMore();
            }
            body.write(b, pos, (int) head.contentLength());
            pos += (int) head.contentLength();
        } else if (head.chunked()) {
            while (true) {
                int lineStart = pos;
                String l = line(true);
                int i = 0;
                while (i < l.length() && Grammar.isHex(l.charAt(i))) {
                    i++;
                }
                String digits = l.substring(0, i).replaceFirst("^0+(?=.)", "");
                if (i == 0 || digits.length() > 7) {
                    throw new Bad(Reason.BAD_CHUNK_SIZE, "chunk size", lineStart);
                }
                long size = Long.parseLong(digits, 16);
                if (!Grammar.isChunkExt(l.substring(i))) {
                    soft(Reason.BAD_CHUNK_EXT, "chunk extension", lineStart);
                }
                if (size == 0) {
                    trailers = fields(true);
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
                head.chunked(), trailers, pos - start, List.copyOf(tolerated));
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
                return new String(b, s, i - s, StandardCharsets.ISO_8859_1);
            }
        }
        throw new NeedMore();
    }

    private static List<Field> named(List<Field> fields, String name) {
        return fields.stream().filter(f -> f.name().equalsIgnoreCase(name)).toList();
    }
}
