package dev.portico.internal.grpc;

import java.nio.charset.StandardCharsets;

/** gRPC status codes Portico uses, the HTTP-to-gRPC status table, and {@code grpc-message}'s encoding. */
public final class GrpcStatus {
    /** The call timed out. */
    public static final int DEADLINE_EXCEEDED = 4;
    /** Out of a resource (a quota): {@code retry_on: grpc_resource_exhausted}. */
    public static final int RESOURCE_EXHAUSTED = 8;
    /** The service is unavailable: {@code retry_on: grpc_unavailable}. */
    public static final int UNAVAILABLE = 14;
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private GrpcStatus() {
    }

    /**
     * The status a gRPC client derives from an HTTP status, as gRPC's own table says
     * (doc/http-grpc-status-mapping.md): 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED
     * (no route), 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
     *
     * @param httpStatus the HTTP status Portico would have answered
     * @return the gRPC status code
     */
    public static int fromHttp(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13;
            case 401 -> 16;
            case 403 -> 7;
            case 404 -> 12;
            case 429, 502, 503, 504 -> UNAVAILABLE;
            default -> 2;
        };
    }

    /**
     * Percent-encodes a {@code grpc-message} value as the gRPC over HTTP/2 spec says: bytes of the UTF-8 form
     * outside printable ASCII (0x20-0x7E), and {@code %} itself, become {@code %XX}.
     *
     * @param message the message
     * @return the encoded value
     */
    public static String encodeMessage(String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(utf8.length + 8);
        for (byte b : utf8) {
            int c = b & 0xFF;
            if (c < 0x20 || c > 0x7E || c == '%') {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}
