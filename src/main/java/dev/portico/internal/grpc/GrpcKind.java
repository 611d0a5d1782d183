package dev.portico.internal.grpc;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** What a request's {@code content-type} says it is: gRPC, gRPC-Web, or gRPC-Web's base64 text form. */
public enum GrpcKind {
    /** {@code application/grpc} and {@code application/grpc+*}. */
    GRPC,
    /** {@code application/grpc-web} and {@code application/grpc-web+*}. */
    WEB,
    /** {@code application/grpc-web-text} and {@code application/grpc-web-text+*}: the body is base64. */
    WEB_TEXT;

    private static final AsciiString GRPC_TYPE = AsciiString.cached("application/grpc");

    /**
     * @param headers a request's fields
     * @return the kind, or {@code null} for a request that is not gRPC (the usual case: one lookup, no allocation)
     */
    public static GrpcKind of(HttpHeaders headers) {
        CharSequence type = headers.get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null || type.length() < GRPC_TYPE.length()
                || !AsciiString.regionMatches(type, true, 0, GRPC_TYPE, 0, GRPC_TYPE.length())) {
            return null;
        }
        int at = GRPC_TYPE.length();
        if (ends(type, at)) {
            return GRPC;
        }
        if (!AsciiString.regionMatches(type, true, at, "-web", 0, 4)) {
            return null;
        }
        at += 4;
        if (ends(type, at)) {
            return WEB;
        }
        return AsciiString.regionMatches(type, true, at, "-text", 0, 5) && ends(type, at + 5) ? WEB_TEXT : null;
    }

    /** @return whether the media type ends at {@code at}: the end, a {@code +suffix} or parameters follow */
    private static boolean ends(CharSequence type, int at) {
        if (at == type.length()) {
            return true;
        }
        char c = type.charAt(at);
        return c == '+' || c == ';' || c == ' ';
    }

    /** @return whether this is one of the gRPC-Web forms */
    public boolean web() {
        return this != GRPC;
    }
}
