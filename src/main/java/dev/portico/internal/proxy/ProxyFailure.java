package dev.portico.internal.proxy;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Objects;

/**
 * Every way an exchange can fail, as one taxonomy: the kind decides the status the client gets and whether a
 * retry on another connection is safe.
 */
public final class ProxyFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The failure kinds and what each means for the client. */
    public enum Kind {
        /** Malformed or ambiguous request. */
        BAD_REQUEST(HttpResponseStatus.BAD_REQUEST, false),
        /** No route matches Host and path. */
        NO_ROUTE(HttpResponseStatus.NOT_FOUND, false),
        /** The client was too slow sending the head or body. */
        REQUEST_TIMEOUT(HttpResponseStatus.REQUEST_TIMEOUT, false),
        /** The body is over the route's limit. */
        REQUEST_TOO_LARGE(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, false),
        /** The request line is over {@code limits.max_request_line}. */
        URI_TOO_LONG(HttpResponseStatus.REQUEST_URI_TOO_LONG, false),
        /** The request head is over {@code limits.max_header_size}. */
        HEADERS_TOO_LARGE(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, false),
        /** An unknown transfer coding, or a method form Portico does not proxy (CONNECT). */
        NOT_IMPLEMENTED(HttpResponseStatus.NOT_IMPLEMENTED, false),
        /** An {@code Expect} other than {@code 100-continue}. */
        EXPECTATION_FAILED(HttpResponseStatus.EXPECTATION_FAILED, false),
        /** An HTTP major version other than 1. */
        VERSION_NOT_SUPPORTED(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, false),
        /** The backend refused the connection. */
        CONNECT_REFUSED(HttpResponseStatus.BAD_GATEWAY, true),
        /** The backend closed or reset the connection, or answered with something that is not HTTP. */
        UPSTREAM_RESET(HttpResponseStatus.BAD_GATEWAY, false),
        /** No endpoint can take the request. */
        NO_HEALTHY_ENDPOINT(HttpResponseStatus.SERVICE_UNAVAILABLE, false),
        /** The response bytes held for clients reached {@code limits.max_buffered_bytes}: new work is shed. */
        OVERLOADED(HttpResponseStatus.SERVICE_UNAVAILABLE, false),
        /** The backend did not accept the connection in time. */
        CONNECT_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, true),
        /** The backend did not answer in time. */
        RESPONSE_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, false),
        /** The client went away; nobody is left to answer. */
        CLIENT_ABORTED(null, false);

        private final HttpResponseStatus status;
        private final boolean retrySafe;

        Kind(HttpResponseStatus status, boolean retrySafe) {
            this.status = status;
            this.retrySafe = retrySafe;
        }

        /** @return the status the client gets, or {@code null} for {@link #CLIENT_ABORTED} */
        public HttpResponseStatus status() {
            return status;
        }

        /**
         * @return whether the request may be sent again elsewhere whatever its method, because nothing of it can
         *     have reached a backend
         */
        public boolean retrySafe() {
            return retrySafe;
        }
    }

    private final Kind kind;

    /**
     * @param kind the kind
     * @param detail a short, user-safe explanation (it may be shown to the client)
     */
    public ProxyFailure(Kind kind, String detail) {
        super(detail, null, false, false);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /**
     * @param cause why a connection to a backend could not be made
     * @return the failure: a timeout (of the connect or of the TLS handshake) is {@link Kind#CONNECT_TIMEOUT},
     *     anything else {@link Kind#CONNECT_REFUSED}
     */
    public static ProxyFailure connectFailure(Throwable cause) {
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            return new ProxyFailure(Kind.CONNECT_TIMEOUT, "upstream connect timed out");
        }
        if (cause instanceof io.netty.handler.ssl.SslHandshakeTimeoutException) {
            return new ProxyFailure(Kind.CONNECT_TIMEOUT, "upstream TLS handshake timed out");
        }
        if (cause instanceof javax.net.ssl.SSLException) {
            return new ProxyFailure(Kind.CONNECT_REFUSED, "upstream TLS handshake failed: "
                    + dev.portico.internal.tls.UpstreamTlsClient.describe(cause));
        }
        if (cause instanceof java.net.ConnectException) {
            return new ProxyFailure(Kind.CONNECT_REFUSED, "upstream refused the connection");
        }
        return new ProxyFailure(Kind.CONNECT_REFUSED, "upstream connect failed: " + cause.getMessage());
    }

    /** @return the kind */
    public Kind kind() {
        return kind;
    }
}
