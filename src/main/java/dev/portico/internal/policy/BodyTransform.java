package dev.portico.internal.policy;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * A per-chunk transform of a response body (compression), set by a response phase with
 * {@link PolicyRun#transformBody} and applied by whoever streams that body: the exchange for a backend's response
 * ({@link BodyTransforms#apply} per part, {@link BodyTransforms#flush} when a read from the backend is over), or
 * {@link PolicyRun#onLocalResponse} for a response Portico holds whole. Each call returns what is ready to write
 * (possibly empty, never {@code null}); between calls a transform holds only its own bounded state, so the body
 * streams under the same backpressure as an untransformed one. Used on one exchange's event loop only.
 */
public interface BodyTransform {
    /**
     * @param in the next part of the body; released by this call, whatever happens
     * @return the transformed bytes ready now, owned by the caller
     */
    ByteBuf next(ByteBuf in);

    /**
     * Offers the body's trailers, just before its last part. A transform that puts them into the body (gRPC-Web's
     * trailer frame) takes them; otherwise they go on as trailers.
     *
     * @param trailers the trailers (possibly empty)
     * @return whether the transform took them: they are then not sent as trailers
     */
    default boolean takeTrailers(HttpHeaders trailers) {
        return false;
    }

    /** @return the bytes that let the client decode everything given so far (empty if nothing is pending) */
    ByteBuf flush();

    /** @return the last bytes of the body; the transform's state is released */
    ByteBuf finish();

    /** Releases the transform's state without finishing (the exchange failed). Safe to call more than once. */
    void close();
}
