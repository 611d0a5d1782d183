package dev.portico.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One edit of a request's bytes. Positions and indexes are taken modulo what the input offers, so every mutation
 * applies to any input (and still applies after jqwik shrinks the ones before it).
 */
sealed interface Mutation {
    byte[] apply(byte[] in);

    /** Inserts {@code value} before byte {@code pos}. */
    record Insert(int pos, byte value) implements Mutation {
        public byte[] apply(byte[] in) {
            int p = pos % (in.length + 1);
            return splice(in, p, p, new byte[] {value});
        }

        @Override
        public String toString() {
            return "insert " + Wire.escape(new byte[] {value}) + " @" + pos;
        }
    }

    /** Deletes byte {@code pos}. */
    record Delete(int pos) implements Mutation {
        public byte[] apply(byte[] in) {
            if (in.length == 0) {
                return in;
            }
            int p = pos % in.length;
            return splice(in, p, p + 1, new byte[0]);
        }
    }

    /** Repeats the {@code length} bytes from {@code pos}. */
    record DuplicateRange(int pos, int length) implements Mutation {
        public byte[] apply(byte[] in) {
            if (in.length == 0) {
                return in;
            }
            int p = pos % in.length;
            int e = Math.min(in.length, p + length);
            return splice(in, e, e, Wire.slice(in, p, e));
        }
    }

    /** Repeats one header line (CRLF or LF terminated) of the first head. */
    record DuplicateHeaderLine(int index) implements Mutation {
        public byte[] apply(byte[] in) {
            List<int[]> lines = headerLines(in);
            if (lines.isEmpty()) {
                return in;
            }
            int[] l = lines.get(index % lines.size());
            return splice(in, l[1], l[1], Wire.slice(in, l[0], l[1]));
        }
    }

    /** Flips the case of the first letter at or after {@code pos}. */
    record SwapCase(int pos) implements Mutation {
        public byte[] apply(byte[] in) {
            for (int k = 0; k < in.length; k++) {
                int i = (pos + k) % in.length;
                char c = (char) in[i];
                if (Character.isLetter(c) && c < 0x80) {
                    byte[] out = in.clone();
                    out[i] = (byte) (Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
                    return out;
                }
            }
            return in;
        }
    }

    /** Replaces one occurrence of whitespace or a line ending by another form. */
    record Whitespace(int index, Kind kind) implements Mutation {
        enum Kind {
            SP_TO_HTAB(" ", "\t"), HTAB_TO_SP("\t", " "), CRLF_TO_LF("\r\n", "\n"), CRLF_TO_CR("\r\n", "\r"),
            SP_TO_TWO(" ", "  "), SP_REMOVE(" ", ""), COLON_TO_SP_COLON(":", " :"), CRLF_TO_CRLF_SP("\r\n", "\r\n "),
            LF_TO_LFCR("\n", "\n\r"), CRLF_TO_CRCRLF("\r\n", "\r\r\n");

            final String from;
            final String to;

            Kind(String from, String to) {
                this.from = from;
                this.to = to;
            }
        }

        public byte[] apply(byte[] in) {
            List<Integer> at = occurrences(in, kind.from);
            if (at.isEmpty()) {
                return in;
            }
            int p = at.get(index % at.size());
            return splice(in, p, p + kind.from.length(), kind.to.getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    /** Rewrites a Content-Length value or a chunk size. */
    record ChangeNumber(int index, Variant variant) implements Mutation {
        enum Variant { PLUS_ONE, MINUS_ONE, ZERO, LEADING_ZERO, HUGE, NEGATIVE, PLUS_SIGN, LIST, SPACED, HEX_PREFIX,
            TIMES_SIXTEEN, TRAILING_SP, OVERFLOW }

        public byte[] apply(byte[] in) {
            List<int[]> numbers = numbers(in);
            if (numbers.isEmpty()) {
                return in;
            }
            int[] n = numbers.get(index % numbers.size());
            String s = new String(in, n[0], n[1] - n[0], StandardCharsets.ISO_8859_1);
            boolean hex = n[2] == 1;
            long v = hex ? Long.parseLong(s, 16) : Long.parseLong(s);
            String r = switch (variant) {
                case PLUS_ONE -> hex ? Long.toHexString(v + 1) : Long.toString(v + 1);
                case MINUS_ONE -> hex ? Long.toHexString(Math.max(0, v - 1)) : Long.toString(Math.max(0, v - 1));
                case ZERO -> "0";
                case LEADING_ZERO -> "0" + s;
                case HUGE -> "99999999";
                case NEGATIVE -> "-" + s;
                case PLUS_SIGN -> "+" + s;
                case LIST -> s + ", " + s;
                case SPACED -> s + " " + s;
                case HEX_PREFIX -> "0x" + s;
                case TIMES_SIXTEEN -> s + "0";
                case TRAILING_SP -> s + " ";
                case OVERFLOW -> "18446744073709551616" + s;
            };
            return splice(in, n[0], n[1], r.getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    /** Inserts a header line (a framing or hop-by-hop variant) among the header lines of the first head. */
    record AddHeader(int index, String line) implements Mutation {
        static final List<String> LINES = List.of("Transfer-Encoding: chunked", "Transfer-Encoding: chunked, chunked",
                "Transfer-Encoding: gzip, chunked", "Transfer-Encoding: identity", "Transfer-Encoding: xchunked",
                "Transfer-Encoding : chunked", "Transfer-Encoding:\tchunked", "Transfer-Encoding: \"chunked\"",
                "transfer-encoding: CHUNKED", "Transfer-Encoding: chunked\u000b", "Transfer-Encoding:chunked",
                "Content-Length: 0", "Content-Length: 5", "Content-Length: 5, 5", "Content-Length: +5",
                "Content-Length: 05", "Content-Length:  5 ", "Content-Length: -1", "Content-Length: 1e1",
                "Content-Length: 4294967301", "Content-Length\u0000: 5", "Connection: content-length",
                "Connection: transfer-encoding", "Connection: close", "Connection: keep-alive",
                "Connection: x-custom, te", "Connection: host", "X-Custom: hop", "Keep-Alive: timeout=5",
                "Proxy-Connection: keep-alive", "Host: other.test", "Host:", "Expect: 100-continue", "Expect: 200-ok",
                "TE: trailers", "Trailer: X-Trailer", "Upgrade: h2c", "X-Forwarded-For: 10.0.0.1",
                "X-Forwarded-Host: evil.test", "Via: 1.0 other", "X-Empty:", "X-Obs: caf\u00e9", " X-Folded: yes");

        public byte[] apply(byte[] in) {
            List<int[]> lines = headerLines(in);
            int lf = Wire.indexOf(in, 0, "\n");
            if (lf < 0) {
                return in;
            }
            int at = lines.isEmpty() ? lf + 1 : lines.get(index % lines.size())[0];
            return splice(in, at, at, (line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    static byte[] splice(byte[] in, int from, int to, byte[] with) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(in.length + with.length);
        o.write(in, 0, from);
        o.write(with, 0, with.length);
        o.write(in, to, in.length - to);
        return o.toByteArray();
    }

    /** [start, end) of each header line (end past its LF) in the first head, the request line excluded. */
    static List<int[]> headerLines(byte[] in) {
        List<int[]> out = new ArrayList<>();
        int lf = Wire.indexOf(in, 0, "\n");
        int s = lf + 1;
        while (lf >= 0 && s < in.length) {
            int e = Wire.indexOf(in, s, "\n");
            if (e < 0 || e == s || (e == s + 1 && in[s] == '\r')) {
                break;
            }
            out.add(new int[] {s, e + 1});
            s = e + 1;
        }
        return out;
    }

    static List<Integer> occurrences(byte[] in, String s) {
        List<Integer> out = new ArrayList<>();
        for (int i = Wire.indexOf(in, 0, s); i >= 0; i = Wire.indexOf(in, i + 1, s)) {
            out.add(i);
        }
        return out;
    }

    /** {start, end, hex?} of each Content-Length value and each chunk size (a hex run at a line start). */
    static List<int[]> numbers(byte[] in) {
        List<int[]> out = new ArrayList<>();
        String text = new String(in, StandardCharsets.ISO_8859_1);
        String lower = text.toLowerCase(Locale.ROOT);
        for (int i = lower.indexOf("content-length:"); i >= 0; i = lower.indexOf("content-length:", i + 1)) {
            int s = i + "content-length:".length();
            while (s < text.length() && (text.charAt(s) == ' ' || text.charAt(s) == '\t')) {
                s++;
            }
            int e = s;
            while (e < text.length() && Character.isDigit(text.charAt(e)) && e - s < 15) {
                e++;
            }
            if (e > s) {
                out.add(new int[] {s, e, 0});
            }
        }
        int head = text.indexOf("\r\n\r\n");
        for (int i = head < 0 ? text.length() : head + 4; i < text.length(); i = text.indexOf('\n', i) + 1) {
            int e = i;
            while (e < text.length() && Grammar.isHex(text.charAt(e)) && e - i < 12) {
                e++;
            }
            if (e > i && e < text.length() && (text.charAt(e) == '\r' || text.charAt(e) == ';')) {
                out.add(new int[] {i, e, 1});
            }
            if (text.indexOf('\n', i) < 0) {
                break;
            }
        }
        return out;
    }
}
