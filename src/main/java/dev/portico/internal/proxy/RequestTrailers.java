package dev.portico.internal.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * What of a request's trailers goes on to an HTTP/2 backend: fields that frame, route or control the message are
 * never trailers (RFC 9110 section 6.5.1), and the connection-specific ones never cross HTTP/2 (RFC 9113 section
 * 8.2.2); anything else passes.
 */
final class RequestTrailers {
    private static final List<CharSequence> NEVER = List.of(HttpHeaderNames.CONTENT_LENGTH,
            HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.HOST, HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
            HttpHeaderNames.UPGRADE, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_ENCODING,
            HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.COOKIE, HttpHeaderNames.EXPECT, HttpHeaderNames.RANGE);

    private RequestTrailers() {
    }

    /** Removes from {@code trailers}, in place, every field that may not be a trailer. */
    static void sanitize(HttpHeaders trailers) {
        for (CharSequence name : NEVER) {
            trailers.remove(name);
        }
        for (String name : trailers.names()) {
            if (name.startsWith(":")) {
                trailers.remove(name);
            }
        }
    }
}
