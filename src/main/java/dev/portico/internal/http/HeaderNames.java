package dev.portico.internal.http;

import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

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
    /** By name length: the candidates of that length, canonical and lower-case spellings. */
    private static final AsciiString[][] BY_LENGTH;

    static {
        int max = 0;
        for (String name : COMMON) {
            max = Math.max(max, name.length());
        }
        List<List<AsciiString>> lists = new ArrayList<>();
        for (int i = 0; i <= max; i++) {
            lists.add(new ArrayList<>());
        }
        for (String name : COMMON) {
            add(lists.get(name.length()), name);
            add(lists.get(name.length()), name.toLowerCase(java.util.Locale.ROOT));
        }
        BY_LENGTH = new AsciiString[max + 1][];
        for (int i = 0; i <= max; i++) {
            BY_LENGTH[i] = lists.get(i).toArray(new AsciiString[0]);
        }
    }

    private HeaderNames() {
    }

    private static void add(List<AsciiString> list, String name) {
        AsciiString s = AsciiString.cached(name);
        if (!list.contains(s)) {
            s.hashCode(); // computed once here, kept by the instance
            list.add(s);
        }
    }

    /**
     * @param bytes the head's bytes
     * @param start where the name starts
     * @param length the name's length
     * @return the shared instance with exactly these bytes, or null when the name is not a common one
     */
    public static AsciiString lookup(byte[] bytes, int start, int length) {
        if (length >= BY_LENGTH.length) {
            return null;
        }
        for (AsciiString candidate : BY_LENGTH[length]) {
            if (sameBytes(candidate, bytes, start, length)) {
                return candidate;
            }
        }
        return null;
    }

    private static boolean sameBytes(AsciiString candidate, byte[] bytes, int start, int length) {
        byte[] own = candidate.array();
        int offset = candidate.arrayOffset();
        for (int i = length - 1; i >= 0; i--) { // from the end: most names of a length share their first letters
            if (own[offset + i] != bytes[start + i]) {
                return false;
            }
        }
        return true;
    }
}
