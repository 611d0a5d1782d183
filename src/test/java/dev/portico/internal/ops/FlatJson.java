package dev.portico.internal.ops;

import java.util.LinkedHashMap;
import java.util.Map;

/** Parses a flat JSON object (string, number, boolean and null values) as the access log writes it. */
final class FlatJson {
    private final String s;
    private int i;

    private FlatJson(String s) {
        this.s = s;
    }

    /** @return the members in order; numbers as their text, null as Java null */
    static Map<String, Object> parse(String json) {
        FlatJson p = new FlatJson(json);
        Map<String, Object> out = new LinkedHashMap<>();
        p.expect('{');
        if (p.peek() != '}') {
            do {
                String key = p.string();
                p.expect(':');
                if (out.containsKey(key)) {
                    throw new AssertionError("duplicate key " + key + " in " + json);
                }
                out.put(key, p.value());
            } while (p.accept(','));
        }
        p.expect('}');
        if (p.i != json.length()) {
            throw new AssertionError("trailing text in " + json);
        }
        return out;
    }

    private Object value() {
        char c = peek();
        if (c == '"') {
            return string();
        }
        int start = i;
        while (i < s.length() && ",}".indexOf(s.charAt(i)) < 0) {
            i++;
        }
        String word = s.substring(start, i);
        if (word.equals("null")) {
            return null;
        }
        if (word.equals("true") || word.equals("false")) {
            return Boolean.valueOf(word);
        }
        if (!word.matches("-?\\d+(\\.\\d+)?")) {
            throw new AssertionError("not a JSON value: " + word + " in " + s);
        }
        return Long.parseLong(word);
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (s.charAt(i) != '"') {
            char c = s.charAt(i++);
            if (c == '\\') {
                char e = s.charAt(i++);
                switch (e) {
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    case 'n' -> sb.append('\n');
                    default -> sb.append(e);
                }
            } else if (c < 0x20) {
                throw new AssertionError("control character in a JSON string: " + s);
            } else {
                sb.append(c);
            }
        }
        i++;
        return sb.toString();
    }

    private char peek() {
        return s.charAt(i);
    }

    private boolean accept(char c) {
        if (i < s.length() && s.charAt(i) == c) {
            i++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!accept(c)) {
            throw new AssertionError("expected '" + c + "' at " + i + " in " + s);
        }
    }
}
