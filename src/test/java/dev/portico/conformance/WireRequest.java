package dev.portico.conformance;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A request as read by a tiny, strict HTTP/1.1 reader (test code): CRLF-only lines, {@code METHOD SP target SP
 * HTTP/1.1}, token field names, no whitespace before the colon, values of VCHAR/obs-text/SP/HTAB, one
 * Content-Length of digits or {@code Transfer-Encoding: chunked} (never both), chunked bodies with hex sizes.
 * Anything else is {@link Malformed}: what a proxy forwards must be this clean.
 *
 * <p>{@link #canonical()} is the form compared with a vector's {@code backend:} expectation.
 */
final class WireRequest {
    /** What the reader refuses. */
    static final class Malformed extends IOException {
        Malformed(String message) {
            super(message);
        }
    }

    private static final int MAX_LINE = 1 << 20;

    final String requestLine;
    /** Field lines as [name as sent, value without surrounding OWS]. */
    final List<String[]> headers = new ArrayList<>();
    final List<String[]> trailers = new ArrayList<>();
    final boolean chunked;
    byte[] body;
    /** How many bytes the request took on the wire. */
    int rawLength;

    private WireRequest(String requestLine, boolean chunked) {
        this.requestLine = requestLine;
        this.chunked = chunked;
    }

    /** @return true for a HEAD request (its response has no body) */
    boolean isHead() {
        return requestLine.startsWith("HEAD ");
    }

    /** @return the first value of the field (name compared case-insensitively), or null */
    String header(String name) {
        for (String[] h : headers) {
            if (h[0].equalsIgnoreCase(name)) {
                return h[1];
            }
        }
        return null;
    }

    /**
     * The comparison form: the request line; the fields with lower-cased names, sorted by name (stable, so the
     * order of repeated fields counts; RFC 9110 section 5.3 makes the order of different names insignificant),
     * Content-Length as a plain number; the body, de-chunked; the trailer fields.
     */
    String canonical() {
        StringBuilder sb = new StringBuilder(requestLine).append('\n');
        appendFields(sb, headers, "");
        sb.append("body: ").append(Vector.escape(body)).append('\n');
        appendFields(sb, trailers, "trailer ");
        return sb.toString();
    }

    private static void appendFields(StringBuilder sb, List<String[]> fields, String prefix) {
        fields.stream().sorted(Comparator.comparing((String[] h) -> h[0].toLowerCase(Locale.ROOT))).forEach(h -> {
            String name = h[0].toLowerCase(Locale.ROOT);
            String value = name.equals("content-length") ? new BigInteger(h[1]).toString() : h[1];
            sb.append(prefix).append(name).append(": ").append(value).append('\n');
        });
    }

    /** Parses the requests in {@code bytes} (an expectation): all of them, or throws. */
    static List<WireRequest> parseAll(byte[] bytes) throws IOException {
        InputStream in = new ByteArrayInputStream(bytes);
        List<WireRequest> out = new ArrayList<>();
        WireRequest r;
        while ((r = read(in)) != null) {
            out.add(r);
        }
        return out;
    }

    /**
     * Reads one request.
     *
     * @return the request, or null at EOF before its first byte
     * @throws EOFException at EOF inside a request
     * @throws Malformed if the bytes are not a strict HTTP/1.1 request
     */
    static WireRequest read(InputStream in) throws IOException {
        int[] count = {0};
        String line = line(in, count, true);
        if (line == null) {
            return null;
        }
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !isToken(parts[0]) || parts[1].isEmpty() || !parts[2].equals("HTTP/1.1")
                || !parts[1].chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new Malformed("bad request line: " + line);
        }
        List<String[]> fields = fields(in, count);
        String te = null;
        String cl = null;
        for (String[] h : fields) {
            if (h[0].equalsIgnoreCase("transfer-encoding")) {
                if (te != null || !h[1].equalsIgnoreCase("chunked")) {
                    throw new Malformed("transfer-encoding other than one 'chunked': " + h[1]);
                }
                te = h[1];
            } else if (h[0].equalsIgnoreCase("content-length")) {
                if (cl != null || h[1].isEmpty() || !h[1].chars().allMatch(c -> c >= '0' && c <= '9')
                        || h[1].length() > 12) {
                    throw new Malformed("bad or repeated content-length: " + h[1]);
                }
                cl = h[1];
            }
        }
        if (te != null && cl != null) {
            throw new Malformed("both content-length and transfer-encoding");
        }
        WireRequest r = new WireRequest(line, te != null);
        r.headers.addAll(fields);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (te != null) {
            String size;
            while (!(size = line(in, count, false)).matches("0+(;.*)?")) {
                if (!size.matches("[0-9A-Fa-f]{1,8}(;.*)?")) {
                    throw new Malformed("bad chunk size line: " + size);
                }
                int n = Integer.parseInt(size.split(";", 2)[0], 16);
                body.writeBytes(exactly(in, n, count));
                if (!line(in, count, false).isEmpty()) {
                    throw new Malformed("chunk data longer than its size");
                }
            }
            r.trailers.addAll(fields(in, count));
        } else if (cl != null) {
            body.writeBytes(exactly(in, Integer.parseInt(cl), count));
        }
        r.body = body.toByteArray();
        r.rawLength = count[0];
        return r;
    }

    private static List<String[]> fields(InputStream in, int[] count) throws IOException {
        List<String[]> fields = new ArrayList<>();
        String l;
        while (!(l = line(in, count, false)).isEmpty()) {
            int colon = l.indexOf(':');
            if (colon <= 0 || !isToken(l.substring(0, colon))) {
                throw new Malformed("bad field line: " + l);
            }
            String value = l.substring(colon + 1).replaceAll("^[ \t]+|[ \t]+$", "");
            for (char c : value.toCharArray()) {
                if (c < 0x20 && c != '\t' || c == 0x7f) {
                    throw new Malformed("control character in field value: " + l);
                }
            }
            fields.add(new String[] {l.substring(0, colon), value});
        }
        return fields;
    }

    /** Reads a CRLF-terminated line; a bare CR or LF is malformed. Null at EOF before the first byte if allowed. */
    private static String line(InputStream in, int[] count, boolean eofOk) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                if (eofOk && b.size() == 0) {
                    return null;
                }
                throw new EOFException("EOF inside a request after " + count[0] + " bytes");
            }
            count[0]++;
            if (c == '\n') {
                throw new Malformed("bare LF after: " + Vector.escape(b.toByteArray()));
            }
            if (c == '\r') {
                int n = in.read();
                if (n < 0) {
                    throw new EOFException("EOF after CR");
                }
                count[0]++;
                if (n != '\n') {
                    throw new Malformed("bare CR after: " + Vector.escape(b.toByteArray()));
                }
                return b.toString(StandardCharsets.ISO_8859_1);
            }
            b.write(c);
            if (b.size() > MAX_LINE) {
                throw new Malformed("line over 1 MiB");
            }
        }
    }

    private static byte[] exactly(InputStream in, int n, int[] count) throws IOException {
        byte[] b = in.readNBytes(n);
        count[0] += b.length;
        if (b.length < n) {
            throw new EOFException("EOF inside a body");
        }
        return b;
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (char c : s.toCharArray()) {
            if (c <= 0x20 || c >= 0x7f || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }
}
