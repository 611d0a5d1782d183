package dev.portico.internal.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Portico's own answers (no route, a policy's 401/403/429, a 502/503/504, ...) to a gRPC request, as a gRPC client
 * can read them: HTTP 200, trailers-only. For gRPC the head carries {@code grpc-status} and {@code grpc-message}
 * and the body is empty (on HTTP/2 one HEADERS frame with END_STREAM); for gRPC-Web they are a trailer frame in
 * the body (base64 for the text form). The status comes from gRPC's HTTP-to-gRPC table ({@link GrpcStatus#fromHttp}),
 * the message from the plain-text line Portico would have sent. The other fields (CORS, the request id) stay.
 * Answers of class 1xx and 2xx (a {@code respond} policy's deliberate 200) are left as they are.
 */
public final class GrpcAnswers {
    /** Fields that described the replaced body. */
    private static final CharSequence[] BODY_FIELDS = {HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_LENGTH,
        HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.ETAG,
        HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.CONTENT_RANGE};
    private static final int MAX_MESSAGE = 256;

    private GrpcAnswers() {
    }

    /**
     * @param request the request's fields (its {@code content-type} decides)
     * @param response the answer Portico made; released when it is replaced
     * @return {@code response}, or its gRPC form when the request is gRPC and the answer is not a success
     */
    public static FullHttpResponse translate(HttpHeaders request, FullHttpResponse response) {
        GrpcKind kind = GrpcKind.of(request);
        if (kind == null) {
            return response;
        }
        return translate(kind, request.get(HttpHeaderNames.CONTENT_TYPE), response, -1);
    }

    /** As {@link #translate(HttpHeaders, FullHttpResponse)}, with {@code grpcStatus} instead of the table's, if set. */
    static FullHttpResponse translate(GrpcKind kind, String contentType, FullHttpResponse response, int grpcStatus) {
        int http = response.status().code();
        if (http < 300) {
            return response;
        }
        String status = Integer.toString(grpcStatus >= 0 ? grpcStatus : GrpcStatus.fromHttp(http));
        String message = GrpcStatus.encodeMessage(message(response));
        ByteBuf body;
        if (kind == GrpcKind.GRPC) {
            body = Unpooled.EMPTY_BUFFER;
        } else {
            ByteBuf frame = GrpcWebFrames.trailerFrame(ByteBufAllocator.DEFAULT,
                    List.of(Map.entry("grpc-status", status), Map.entry("grpc-message", message)));
            body = kind == GrpcKind.WEB_TEXT ? GrpcWebFrames.base64(frame) : frame;
        }
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        HttpHeaders h = out.headers();
        h.set(response.headers());
        for (CharSequence name : BODY_FIELDS) {
            h.remove(name);
        }
        h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        if (kind == GrpcKind.GRPC) {
            h.set("grpc-status", status);
            h.set("grpc-message", message);
        }
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        response.release();
        return out;
    }

    /**
     * The HTTP status and the answer's one plain-text line: Portico's own ("404 Not Found: no route ...") as it is,
     * a policy's ("Too Many Requests") after the status; any other body is left out.
     */
    private static String message(FullHttpResponse response) {
        String status = response.status().code() + " " + response.status().reasonPhrase();
        String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
        ByteBuf content = response.content();
        if (type != null && type.startsWith("text/plain") && content.isReadable()
                && content.readableBytes() <= MAX_MESSAGE) {
            String text = content.toString(StandardCharsets.UTF_8).strip();
            if (text.startsWith(status)) {
                return text.indexOf('\n') < 0 ? text : status;
            }
            if (!text.isEmpty() && text.indexOf('\n') < 0 && !text.equals(response.status().reasonPhrase())) {
                return status + ": " + text;
            }
        }
        return status;
    }
}
