package dev.portico.internal.grpc;

import dev.portico.internal.policy.BodyTransform;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One gRPC request's exchange, as far as gRPC changes it: created only for requests whose {@code content-type} is
 * gRPC or gRPC-Web, so other requests pay one field lookup. It holds the deadline from {@code grpc-timeout}, and on a
 * route with {@code grpc_web: true} turns a gRPC-Web request into gRPC for the backend and the response back.
 * Used on the exchange's event loop only.
 */
public final class GrpcCall {
    /** The {@code grpc-timeout} field. */
    public static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    /** Head fields of a trailers-only response that belong in gRPC-Web's trailer frame. */
    private static final String[] STATUS_FIELDS = {"grpc-status", "grpc-message", "grpc-status-details-bin"};
    /** A timer fires a little early or late: a 504 this close to the deadline is the deadline's. */
    private static final long DEADLINE_SLACK = 5_000_000L;

    private final GrpcKind kind;
    private final String contentType;
    /** Whether the request goes to the backend as gRPC and its response comes back as gRPC-Web. */
    private final boolean translate;
    /** {@code System.nanoTime()} when {@code grpc-timeout} runs out; meaningful only if {@link #hasDeadline}. */
    private final long deadline;
    private final boolean hasDeadline;
    /** The text form's request decoder, or null. */
    private final Base64Stream requestText;

    private GrpcCall(GrpcKind kind, String contentType, boolean translate, long timeoutNanos) {
        this.kind = kind;
        this.contentType = contentType;
        this.translate = translate;
        this.hasDeadline = timeoutNanos >= 0;
        this.deadline = System.nanoTime() + Math.min(timeoutNanos, Long.MAX_VALUE / 4);
        this.requestText = translate && kind == GrpcKind.WEB_TEXT ? new Base64Stream() : null;
    }

    /**
     * @param request the client's request head, before it is rewritten for the backend
     * @param grpcWeb the route's {@code grpc_web}
     * @return the call, or {@code null} when the request is not gRPC
     */
    public static GrpcCall of(HttpRequest request, boolean grpcWeb) {
        HttpHeaders h = request.headers();
        GrpcKind kind = GrpcKind.of(h);
        if (kind == null) {
            return null;
        }
        boolean translate = grpcWeb && kind.web();
        if (translate) {
            // A browser sends no TE: this makes the backend's gRPC request say it takes trailers, which gRPC
            // servers require. As the client's own TE, it goes on HTTP/2 tries only (hop-by-hop on HTTP/1.1).
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        return new GrpcCall(kind, h.get(HttpHeaderNames.CONTENT_TYPE), translate,
                GrpcTimeout.parseNanos(h.get(GRPC_TIMEOUT)));
    }

    /**
     * Readies the head sent upstream for a translated gRPC-Web request: the gRPC content type, with chunked framing
     * when the body is decoded from base64 (its length changes).
     *
     * @param upstream the head Portico sends the backend
     */
    public void prepare(HttpRequest upstream) {
        HttpHeaders h = upstream.headers();
        if (!translate) {
            return;
        }
        h.set(HttpHeaderNames.CONTENT_TYPE, grpcType());
        if (requestText != null && h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            HttpUtil.setTransferEncodingChunked(upstream, true);
        }
    }

    /** {@code application/grpc-web-text+proto} becomes {@code application/grpc+proto}, and so on. */
    private String grpcType() {
        int plus = contentType.indexOf('+');
        return plus < 0 ? "application/grpc" : "application/grpc" + contentType.substring(plus);
    }

    /**
     * Sets the {@code grpc-timeout} a try sends upstream: what is left of the client's.
     *
     * @param upstream the head about to be written for a try
     */
    public void beforeTry(HttpHeaders upstream) {
        if (hasDeadline) {
            upstream.set(GRPC_TIMEOUT, GrpcTimeout.format(remainingNanos()));
        }
    }

    private long remainingNanos() {
        return deadline - System.nanoTime();
    }

    /** @return whether the client's {@code grpc-timeout} has run out: no new try can answer in time */
    public boolean expired() {
        return hasDeadline && remainingNanos() <= 0;
    }

    /**
     * @param nanos the per-try response timeout
     * @return that timeout, capped by what is left of {@code grpc-timeout} (at least 1ns, so it fires at once)
     */
    public long capTimeout(long nanos) {
        return hasDeadline ? Math.max(1, Math.min(nanos, remainingNanos())) : nanos;
    }

    /**
     * @param part a request body part (released or handed on)
     * @return the part to send upstream (base64-decoded for the text form), or {@code null} if it is malformed
     */
    public HttpContent requestPart(HttpContent part) {
        if (requestText == null) {
            return part;
        }
        ByteBuf decoded = requestText.next(part.content().retain());
        boolean last = part instanceof LastHttpContent;
        part.release();
        if (decoded == null || last && !requestText.complete()) {
            if (decoded != null) {
                decoded.release();
            }
            return null;
        }
        return last ? new DefaultLastHttpContent(decoded) : new DefaultHttpContent(decoded);
    }

    /**
     * Turns a backend's response head into gRPC-Web's (content type, framing, a trailers-only head's status fields
     * moved to the body's trailer frame) and gives the transform that frames the body. Only a translated request's
     * 200 is turned: anything else (a backend's plain 503) goes to the client as it came.
     *
     * @param toClient the head for the client, changed in place
     * @param clientVersion the client's HTTP version
     * @param alloc the client channel's allocator
     * @return the body's transform, or {@code null} when the response is not turned
     */
    public BodyTransform response(HttpResponse toClient, HttpVersion clientVersion, ByteBufAllocator alloc) {
        if (!translate || toClient.status().code() != 200 || clientVersion.equals(HttpVersion.HTTP_1_0)) {
            return null;
        }
        HttpHeaders h = toClient.headers();
        List<Map.Entry<String, String>> moved = new ArrayList<>(2);
        for (String name : STATUS_FIELDS) {
            String value = h.get(name);
            if (value != null) {
                moved.add(Map.entry(name, value));
                h.remove(name);
            }
        }
        h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
            HttpUtil.setTransferEncodingChunked(toClient, true);
        }
        return new GrpcWebResponse(alloc, kind == GrpcKind.WEB_TEXT, moved);
    }

    /**
     * @param toClient a backend's response head on its way to the client
     * @return whether it is a gRPC trailers-only head ({@code grpc-status} in it) to be written together with the
     *     body's end by {@link #trailersOnly}
     */
    public boolean holdsHead(HttpResponse toClient) {
        return !translate && toClient.headers().contains("grpc-status");
    }

    /**
     * @param head a held trailers-only head
     * @param end the body's end (its buffer is taken over)
     * @return both as one message: on HTTP/2 a HEADERS frame with END_STREAM when the end is empty
     */
    public static FullHttpResponse trailersOnly(HttpResponse head, LastHttpContent end) {
        return new DefaultFullHttpResponse(head.protocolVersion(), head.status(), end.content(), head.headers(),
                end.trailingHeaders());
    }

    /**
     * @param response an answer Portico made for this request; released when it is replaced
     * @return its gRPC (or gRPC-Web) form, see {@link GrpcAnswers}; a 504 after the client's {@code grpc-timeout}
     *     ran out is DEADLINE_EXCEEDED, which says more than the table's UNAVAILABLE
     */
    public FullHttpResponse answer(FullHttpResponse response) {
        boolean deadline = response.status().code() == 504 && hasDeadline && remainingNanos() <= DEADLINE_SLACK;
        return GrpcAnswers.translate(kind, contentType, response, deadline ? GrpcStatus.DEADLINE_EXCEEDED : -1);
    }
}
