package dev.portico.internal.upstream;

import dev.portico.internal.balance.Endpoint;

/**
 * An HTTP/2 backend did not process a stream: it answered RST_STREAM(REFUSED_STREAM), or its GOAWAY named a last
 * stream id below the stream's, or the stream's HEADERS never left because the connection was going away. None of
 * the request reached the application (RFC 9113 sections 6.8 and 8.7), so it is retried as a connect failure is.
 */
public final class StreamRefused extends Exception {
    private static final long serialVersionUID = 1L;

    StreamRefused(Endpoint endpoint) {
        super("upstream " + endpoint.text() + " did not process the HTTP/2 stream", null, false, false);
    }
}
