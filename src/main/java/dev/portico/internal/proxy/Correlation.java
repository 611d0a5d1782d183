package dev.portico.internal.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids and W3C trace context: what lets a request be followed from the client through Portico to the
 * backend and its logs.
 */
public final class Correlation {
    /** The W3C trace context field. */
    public static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
    /** The longest request id taken from a client; a longer one is replaced. */
    static final int MAX_ID = 128;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private Correlation() {
    }

    /**
     * The request id: the client's, if it sent exactly one well-formed value, else a new one, which is set on the
     * request (so it is what the backend gets).
     *
     * @param headers the request's headers
     * @param name the request id field
     * @return the request id
     */
    public static String requestId(HttpHeaders headers, AsciiString name) {
        String id = headers.get(name);
        if (id != null && wellFormed(id) && headers.getAll(name).size() == 1) {
            return id;
        }
        id = randomHex(16);
        headers.set(name, id);
        return id;
    }

    /**
     * A request id is 1 to 128 characters of letters, digits and {@code - _ . : + = / @}: enough for UUIDs and the
     * ids of common tracers, and nothing that could break a log line.
     *
     * @param id the candidate
     * @return whether it is passed on as it is
     */
    static boolean wellFormed(String id) {
        int n = id.length();
        if (n == 0 || n > MAX_ID) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '=' || c == '/' || c == '@';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * The request's trace id. A {@code traceparent} the client sent is left as it is (with {@code tracestate});
     * without one, and if {@code generate}, a new trace is started with a sampled traceparent.
     *
     * @param headers the request's headers
     * @param generate whether to start a trace for a request without a traceparent
     * @return the trace id (32 hex digits) if the traceparent is well-formed, else {@code null}
     */
    public static String traceId(HttpHeaders headers, boolean generate) {
        return traceId(headers, generate, true);
    }

    /**
     * As {@link #traceId(HttpHeaders, boolean)}, with the sampled flag of a generated traceparent: unset when
     * Portico exports spans and left this request out, so backends do not record a trace whose root is missing.
     *
     * @param headers the request's headers
     * @param generate whether to start a trace for a request without a traceparent
     * @param sampled the sampled flag of a generated traceparent
     * @return the trace id (32 hex digits) if the traceparent is well-formed, else {@code null}
     */
    public static String traceId(HttpHeaders headers, boolean generate, boolean sampled) {
        String tp = headers.get(TRACEPARENT);
        if (tp == null) {
            if (!generate) {
                return null;
            }
            String traceId = randomHex(16);
            headers.set(TRACEPARENT, "00-" + traceId + "-" + randomHex(8) + (sampled ? "-01" : "-00"));
            return traceId;
        }
        // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 (RFC: W3C Trace Context).
        if (tp.length() < 55 || tp.charAt(2) != '-' || tp.charAt(35) != '-' || tp.charAt(52) != '-') {
            return null;
        }
        String traceId = tp.substring(3, 35);
        for (int i = 0; i < traceId.length(); i++) {
            char c = traceId.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return null;
            }
        }
        return traceId.equals("00000000000000000000000000000000") ? null : traceId;
    }

    /** @return {@code bytes} random bytes as lower-case hex, never all zero */
    static String randomHex(int bytes) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        byte[] out = new byte[bytes * 2]; // Latin-1: the string keeps a copy of it, no char[] to compress
        long bits = 0;
        for (int i = 0; i < bytes; i++) {
            if ((i & 7) == 0) {
                bits = r.nextLong();
                if (i == 0 && bits == 0) {
                    bits = 1;
                }
            }
            int b = (int) (bits & 0xff);
            bits >>>= 8;
            out[2 * i] = HEX[b >> 4];
            out[2 * i + 1] = HEX[b & 0xf];
        }
        return new String(out, StandardCharsets.ISO_8859_1);
    }
}
