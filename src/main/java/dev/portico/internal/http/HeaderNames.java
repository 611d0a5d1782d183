package dev.portico.internal.http;

import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.Locale;

/**
 * Shared instances of the header field names that almost every request and response carries, for the HTTP/1.1
 * decoders: Netty's decoder makes a new {@link AsciiString} (a copy of the name's bytes, and its hash computed
 * again by the header map) for every field of every head, which was the largest single item of a proxied request's
 * allocation. A name is only replaced by an instance with exactly the same bytes, so what the rest of Portico sees
 * (and relays) is unchanged; names not in the table, or in another letter case, get a new instance as before.
 */
public final class HeaderNames {
    private static final String[] COMMON = {
        // requests
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Accept-Charset", "Connection",
        "Content-Type", "Content-Length", "Cookie", "Authorization", "Referer", "Origin", "Cache-Control", "Pragma",
        "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range", "Expect",
        "Upgrade", "TE", "Transfer-Encoding", "Forwarded", "Via", "X-Forwarded-For", "X-Forwarded-Proto",
        "X-Forwarded-Host", "X-Forwarded-Port", "X-Real-IP", "X-Request-Id", "X-Requested-With", "DNT",
        "Upgrade-Insecure-Requests", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User",
        "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol",
        "traceparent", "tracestate",
        // responses
        "Server", "Date", "Last-Modified", "ETag", "Accept-Ranges", "Expires", "Vary", "Set-Cookie", "Location",
        "Content-Encoding", "Content-Language", "Content-Disposition", "Content-Range", "Keep-Alive", "Age",
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Strict-Transport-Security",
        "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy", "Retry-After",
        "WWW-Authenticate", "Sec-WebSocket-Accept", "Alt-Svc", "Trailer",
    };
    /**
     * The canonical and lower-case spellings hashed by {@link #slot}, each slot holding the names that hash to it:
     * the two spellings of a name share a slot, so a lookup compares against two candidates or so (four at most)
     * instead of every name of that length.
     */
    private static final AsciiString[][] SLOTS = new AsciiString[256][];
    /** For each name of {@link #SLOTS}, at the same place: its lower-case spelling (itself if it is one). */
    private static final AsciiString[][] LOWER = new AsciiString[256][];

    static {
        for (String name : COMMON) {
            add(name);
            add(name.toLowerCase(Locale.ROOT));
        }
        for (int i = 0; i < SLOTS.length; i++) {
            if (SLOTS[i] != null) {
                LOWER[i] = new AsciiString[SLOTS[i].length];
                for (int j = 0; j < SLOTS[i].length; j++) {
                    AsciiString lower = SLOTS[i][j].toLowerCase();
                    LOWER[i][j] = lookup(lower.array(), lower.arrayOffset(), lower.length());
                }
            }
        }
    }

    private HeaderNames() {
    }

    private static void add(String name) {
        AsciiString s = AsciiString.cached(name);
        byte[] b = s.array();
        int i = slot(b, s.arrayOffset(), s.length());
        AsciiString[] old = SLOTS[i] == null ? new AsciiString[0] : SLOTS[i];
        for (AsciiString o : old) {
            if (o.equals(s)) {
                return;
            }
        }
        s.hashCode(); // computed once here, kept by the instance
        AsciiString[] grown = Arrays.copyOf(old, old.length + 1);
        grown[old.length] = s;
        SLOTS[i] = grown;
    }

    /** The slot of a name: its length and its first, middle and last letters, ignoring their case. */
    private static int slot(byte[] bytes, int start, int length) {
        return slot(length, bytes[start], bytes[start + length / 2], bytes[start + length - 1]);
    }

    private static int slot(int length, int first, int middle, int last) {
        return (length * 31 + (first | 0x20) * 7 + (middle | 0x20) * 3 + (last | 0x20)) & 0xff;
    }

    /**
     * @param bytes the head's bytes
     * @param start where the name starts
     * @param length the name's length
     * @return the shared instance with exactly these bytes, or null when the name is not a common one
     */
    public static AsciiString lookup(byte[] bytes, int start, int length) {
        if (length == 0) {
            return null;
        }
        AsciiString[] candidates = SLOTS[slot(bytes, start, length)];
        if (candidates == null) {
            return null;
        }
        for (AsciiString candidate : candidates) {
            if (candidate.length() == length && sameBytes(candidate, bytes, start, length)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * The lower-case spelling of a field name, as HTTP/2 and HTTP/3 send names: for the common names a shared
     * instance (its hash already computed), found without copying the name; others are lower-cased into a new one.
     *
     * @param name a field name, in any case
     * @return the name in lower case
     */
    public static AsciiString lowerCase(CharSequence name) {
        int length = name.length();
        if (length > 0) {
            int slot = slot(length, name.charAt(0), name.charAt(length / 2), name.charAt(length - 1));
            AsciiString[] candidates = SLOTS[slot];
            if (candidates != null) {
                for (int i = 0; i < candidates.length; i++) {
                    if (candidates[i] == name || candidates[i].contentEqualsIgnoreCase(name)) {
                        return LOWER[slot][i];
                    }
                }
            }
        }
        return AsciiString.of(name).toLowerCase();
    }

    private static boolean sameBytes(AsciiString candidate, byte[] bytes, int start, int length) {
        byte[] own = candidate.array();
        int offset = candidate.arrayOffset();
        for (int i = length - 1; i >= 0; i--) { // from the end: the two spellings differ in their first letters
            if (own[offset + i] != bytes[start + i]) {
                return false;
            }
        }
        return true;
    }
}
