package dev.portico.internal.policy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.LastHttpContent;

/** Applies a {@link BodyTransform} to Netty's HTTP messages: streamed parts, and whole local responses. */
public final class BodyTransforms {
    private BodyTransforms() {
    }

    /**
     * @param t the transform
     * @param part a part of the body (released); the last part finishes the transform
     * @return the transformed part, the last one with the original's trailers; {@code null} for a part that is not
     *     the last and came out empty (the encoder holds it): nothing to write, no empty DATA frame on HTTP/2
     */
    public static HttpContent apply(BodyTransform t, HttpContent part) {
        if (!(part instanceof LastHttpContent last)) {
            ByteBuf out = t.next(part.content());
            if (!out.isReadable()) {
                out.release();
                return null;
            }
            return new DefaultHttpContent(out);
        }
        try {
            boolean taken = t.takeTrailers(last.trailingHeaders());
            ByteBuf out = t.next(part.content().retain());
            LastHttpContent result = new DefaultLastHttpContent(join(out, t.finish()));
            if (!taken) {
                result.trailingHeaders().set(last.trailingHeaders());
            }
            return result;
        } finally {
            t.close();
            part.release();
        }
    }

    /**
     * @param t the transform
     * @return a part that makes everything given so far decodable, or {@code null} when there is nothing to send
     */
    public static HttpContent flush(BodyTransform t) {
        ByteBuf out = t.flush();
        if (!out.isReadable()) {
            out.release();
            return null;
        }
        return new DefaultHttpContent(out);
    }

    /**
     * @param first the transform applied first (gRPC-Web's framing)
     * @param then the transform applied to what {@code first} gives (compression), or {@code null}
     * @return both in sequence, or {@code first} alone
     */
    public static BodyTransform chain(BodyTransform first, BodyTransform then) {
        return then == null ? first : new Chained(first, then);
    }

    /** Two transforms in sequence: every output of the first goes through the second. */
    private record Chained(BodyTransform first, BodyTransform then) implements BodyTransform {
        @Override
        public ByteBuf next(ByteBuf in) {
            return then.next(first.next(in));
        }

        @Override
        public boolean takeTrailers(io.netty.handler.codec.http.HttpHeaders trailers) {
            return first.takeTrailers(trailers) || then.takeTrailers(trailers);
        }

        @Override
        public ByteBuf flush() {
            return join(then.next(first.flush()), then.flush());
        }

        @Override
        public ByteBuf finish() {
            return join(then.next(first.finish()), then.finish());
        }

        @Override
        public void close() {
            first.close();
            then.close();
        }
    }

    /**
     * Transforms the whole body of a response held in memory.
     *
     * @param t the transform, finished by this call
     * @param response the response (released)
     * @return a response with the transformed body and its exact {@code Content-Length}
     */
    static FullHttpResponse whole(BodyTransform t, FullHttpResponse response) {
        ByteBuf out;
        try {
            out = join(t.next(response.content().retain()), t.finish());
        } finally {
            t.close();
        }
        FullHttpResponse r = response.replace(out);
        response.release();
        r.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.readableBytes());
        return r;
    }

    /** @return {@code a} followed by {@code b}, both released or handed on */
    private static ByteBuf join(ByteBuf a, ByteBuf b) {
        if (!b.isReadable()) {
            b.release();
            return a;
        }
        if (!a.isReadable()) {
            a.release();
            return b;
        }
        return Unpooled.wrappedBuffer(a, b);
    }
}
