package dev.portico.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One conformance vector, and the loader for the data files in {@code src/test/resources/conformance/*.txt}.
 *
 * <p>File format: blocks separated by a line {@code ===}; lines starting with {@code #} are comments; a field is
 * {@code key: value} (everything after the first ": ", trailing whitespace dropped); a line starting with
 * whitespace continues the previous field (its leading whitespace dropped; joined without a separator in
 * {@code request} and {@code backend}, with a space elsewhere). Keys:
 * <ul>
 *   <li>{@code name} (unique), {@code rfc} (section cited), {@code note} (why this expectation; optional)</li>
 *   <li>{@code request}: the raw bytes, with the escapes of {@link #decode}</li>
 *   <li>{@code status}: the expected status of each response, space-separated (e.g. {@code 100 200})</li>
 *   <li>{@code close}: whether the proxy must close the client connection after the last response</li>
 *   <li>{@code backend}: {@code nothing} (not one byte reaches the backend), {@code incomplete} (a body-framing
 *       error found after the head was forwarded: the backend may get a prefix of the request on a connection the
 *       proxy then closes, never a complete request), or the exact request(s) the backend must receive, in wire
 *       form with escapes and the placeholders {@code {fwd:HOST}}, {@code {fwd}} and {@code {backend}}</li>
 *   <li>{@code known_failure}: optional; Portico is known to get this vector wrong for the reason given: the
 *       runner skips it (JUnit assumption) and lists it</li>
 * </ul>
 *
 * @param file the data file's name
 * @param name the vector's name
 * @param rfc the RFC section(s) cited
 * @param request the raw request bytes
 * @param statuses the expected statuses in order
 * @param close whether the connection must be closed
 * @param backend {@code nothing}, {@code incomplete}, or the expected requests (escapes not yet decoded)
 * @param knownFailure the reason Portico fails this vector, or {@code null}
 */
record Vector(String file, String name, String rfc, byte[] request, List<Integer> statuses, boolean close,
              String backend, String knownFailure) {
    static final String NOTHING = "nothing";
    static final String INCOMPLETE = "incomplete";

    @Override
    public String toString() {
        return file.replace(".txt", "") + "/" + name;
    }

    /** @return every vector of every data file, in file order */
    static List<Vector> loadAll() {
        URL dir = Vector.class.getResource("/conformance");
        if (dir == null) {
            throw new IllegalStateException("no conformance directory on the test class path");
        }
        List<Vector> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".txt")).sorted().toList()) {
                all.addAll(parse(p.getFileName().toString(), Files.readString(p, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return all;
    }

    /** Parses one data file. */
    static List<Vector> parse(String file, String text) {
        List<Vector> out = new ArrayList<>();
        Map<String, String> fields = new LinkedHashMap<>();
        String last = null;
        int lineNo = 0;
        for (String raw : (text + "\n===").split("\n", -1)) {
            lineNo++;
            String line = raw.stripTrailing();
            if (line.equals("===")) {
                if (!fields.isEmpty()) {
                    out.add(build(file, lineNo, fields));
                }
                fields = new LinkedHashMap<>();
                last = null;
            } else if (line.isEmpty() || line.startsWith("#")) {
                continue;
            } else if (Character.isWhitespace(line.charAt(0))) {
                if (last == null) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": continuation without a field");
                }
                String sep = last.equals("request") || last.equals("backend") ? "" : " ";
                fields.merge(last, line.strip(), (a, b) -> a + sep + b);
            } else {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": expected 'key: value'");
                }
                last = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                if (fields.put(last, line.substring(colon + 1).strip()) != null) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": repeated field " + last);
                }
            }
        }
        return out;
    }

    private static Vector build(String file, int lineNo, Map<String, String> f) {
        String where = file + " (block ending at line " + lineNo + ")";
        for (String key : f.keySet()) {
            if (!List.of("name", "rfc", "note", "request", "status", "close", "backend", "known_failure")
                    .contains(key)) {
                throw new IllegalArgumentException(where + ": unknown field " + key);
            }
        }
        for (String key : List.of("name", "rfc", "request", "status", "close", "backend")) {
            if (!f.containsKey(key) || f.get(key).isEmpty()) {
                throw new IllegalArgumentException(where + ": missing field " + key);
            }
        }
        List<Integer> statuses = new ArrayList<>();
        for (String s : f.get("status").split("\\s+")) {
            statuses.add(Integer.parseInt(s));
        }
        String close = f.get("close");
        if (!close.equals("true") && !close.equals("false")) {
            throw new IllegalArgumentException(where + ": close must be true or false");
        }
        return new Vector(file, f.get("name"), f.get("rfc"), decode(f.get("request"), Map.of()), statuses,
                close.equals("true"), f.get("backend"), f.get("known_failure"));
    }

    /**
     * Decodes escapes: {@code \r \n \t \\ \xNN}; {@code {repeat:N:TEXT}} (TEXT, itself decoded, N times;
     * directives nest);
     * {@code {NAME}} for the variable {@code NAME} in {@code vars}, {@code {NAME:ARG}} for the variable
     * {@code NAME:}, a template in which {@code $} stands for ARG. A literal brace is {@code \x7b}.
     */
    static byte[] decode(String s, Map<String, String> vars) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                char e = s.charAt(++i);
                switch (e) {
                    case 'r' -> out.write('\r');
                    case 'n' -> out.write('\n');
                    case 't' -> out.write('\t');
                    case '\\' -> out.write('\\');
                    case 'x' -> {
                        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    default -> throw new IllegalArgumentException("unknown escape \\" + e + " in " + s);
                }
            } else if (c == '{') {
                int end = i + 1;
                for (int depth = 1; depth > 0; end++) {
                    depth += s.charAt(end) == '{' ? 1 : s.charAt(end) == '}' ? -1 : 0;
                }
                String directive = s.substring(i + 1, --end);
                i = end;
                out.writeBytes(directive(directive, vars));
            } else if (c > 0xff) {
                throw new IllegalArgumentException("character outside ISO-8859-1 in " + s + ": use \\xNN");
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }

    private static byte[] directive(String d, Map<String, String> vars) {
        int colon = d.indexOf(':');
        String key = colon < 0 ? d : d.substring(0, colon);
        String arg = colon < 0 ? "" : d.substring(colon + 1);
        if (key.equals("repeat")) {
            int c2 = arg.indexOf(':');
            byte[] unit = decode(arg.substring(c2 + 1), vars);
            int n = Integer.parseInt(arg.substring(0, c2));
            ByteArrayOutputStream out = new ByteArrayOutputStream(unit.length * n);
            for (int k = 0; k < n; k++) {
                out.writeBytes(unit);
            }
            return out.toByteArray();
        }
        String template = vars.get(colon < 0 ? key : key + ":");
        if (template == null) {
            throw new IllegalArgumentException("unknown placeholder {" + d + "}");
        }
        return decode(template.replace("$", arg), Map.of());
    }

    /** @return the text with bytes outside printable ASCII as escapes, for messages */
    static String escape(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xff;
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> sb.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }
}
