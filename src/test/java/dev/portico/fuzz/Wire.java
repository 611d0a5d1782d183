package dev.portico.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Byte escaping for reports, and the client side's reading of the responses the proxy sent back. */
final class Wire {
    private Wire() {
    }

    /**
     * A response as read off the client connection.
     *
     * @param truncated the connection ended before the body its head announced
     */
    record Response(int status, Map<String, String> headers, byte[] body, boolean truncated) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** @return the backend's echo: {@code ID METHOD TARGET BODYLEN CRC32}, or null */
        String echo() {
            return header("x-fuzz-echo");
        }

        @Override
        public String toString() {
            return status + (echo() == null ? "" : " [" + echo() + "]") + (truncated ? " (truncated)" : "");
        }
    }

    /**
     * The responses in {@code b}, interim (1xx) ones left out.
     *
     * @param malformed receives a description of bytes that are not a response, if any
     */
    static List<Response> responses(byte[] b, List<String> malformed) {
        List<Response> out = new ArrayList<>();
        try {
            read(b, out, malformed);
        } catch (RuntimeException e) {
            malformed.add("unreadable response framing (" + e + "): " + escape(b, 300));
        }
        return out;
    }

    private static void read(byte[] b, List<Response> out, List<String> malformed) {
        int pos = 0;
        while (pos < b.length) {
            int headEnd = indexOf(b, pos, "\r\n\r\n");
            if (headEnd < 0) {
                malformed.add("incomplete response head: " + escape(slice(b, pos, b.length), 200));
                return;
            }
            String[] lines = new String(b, pos, headEnd - pos, StandardCharsets.ISO_8859_1).split("\r\n", -1);
            String[] statusLine = lines[0].split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].equals("HTTP/1.1") || !statusLine[1].matches("[1-5][0-9][0-9]")) {
                malformed.add("bad status line: " + escape(slice(b, pos, headEnd), 200));
                return;
            }
            int status = Integer.parseInt(statusLine[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int c = lines[i].indexOf(':');
                if (c <= 0) {
                    malformed.add("bad response header line: " + escape(lines[i].getBytes(StandardCharsets.ISO_8859_1), 200));
                    return;
                }
                headers.merge(lines[i].substring(0, c).toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim(),
                        (x, y) -> x + ", " + y);
            }
            pos = headEnd + 4;
            if (status / 100 == 1) {
                continue;
            }
            String echo = headers.get("x-fuzz-echo");
            boolean bodiless = status == 204 || status == 304 || (echo != null && echo.split(" ")[1].equals("HEAD"));
            byte[] body = new byte[0];
            boolean truncated = false;
            if (bodiless) {
                // no body
            } else if (headers.containsKey("content-length")) {
                int n = Integer.parseInt(headers.get("content-length"));
                truncated = b.length - pos < n;
                int take = Math.min(n, b.length - pos);
                body = slice(b, pos, pos + take);
                pos += take;
            } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
                while (true) {
                    int le = indexOf(b, pos, "\r\n");
                    if (le < 0) {
                        truncated = true;
                        pos = b.length;
                        break;
                    }
                    int size = Integer.parseInt(new String(b, pos, le - pos, StandardCharsets.ISO_8859_1)
                            .split(";")[0].trim(), 16);
                    pos = le + 2;
                    if (size == 0) {
                        int te = indexOf(b, pos, "\r\n");
                        pos = te < 0 ? b.length : te + 2;
                        break;
                    }
                    int take = Math.min(size, b.length - pos);
                    o.write(b, pos, take);
                    pos = Math.min(b.length, pos + size + 2);
                }
                body = o.toByteArray();
            } else {
                body = slice(b, pos, b.length);
                pos = b.length;
            }
            out.add(new Response(status, headers, body, truncated));
        }
    }

    /** @return the number of complete final responses in {@code b} answered by the backend (with an echo) */
    static long backendAnswers(byte[] b) {
        List<String> ignored = new ArrayList<>();
        return responses(b, ignored).stream().filter(r -> r.echo() != null && !r.truncated()).count();
    }

    static int indexOf(byte[] b, int from, String s) {
        outer:
        for (int i = from; i <= b.length - s.length(); i++) {
            for (int j = 0; j < s.length(); j++) {
                if (b[i + j] != s.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }

    /** Printable ASCII as is, CR LF HTAB as {@code \r \n \t}, anything else as {@code \xNN}; cut at {@code max}. */
    static String escape(byte[] b, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.length && i < max; i++) {
            int c = b[i] & 0xff;
            if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c == '\\') {
                sb.append("\\\\");
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02X", c));
            }
        }
        if (b.length > max) {
            sb.append("...(").append(b.length).append(" bytes)");
        }
        return sb.toString();
    }

    static String escape(byte[] b) {
        return escape(b, Integer.MAX_VALUE);
    }
}
