package dev.portico.internal.cache;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import java.util.function.BiFunction;

/**
 * What a cache needs of the exchange beyond the public policy API: implemented by the exchange's policy run, found
 * by casting the {@link dev.portico.policy.RequestContext}. Called on the client connection's event loop, but for
 * {@link #answerWith} from a coalesced fill, which is then followed by a suspension's decision (the hand-over that
 * publishes it).
 */
public interface ExchangeHooks {
    /**
     * Gives the full response (with its body, already in memory) to send when the request phase answers locally;
     * the {@link dev.portico.policy.LocalResponse} of the decision is then only a marker.
     *
     * @param response the response; ownership passes to the exchange
     */
    void answerWith(FullHttpResponse response);

    /** @return the response given to {@link #answerWith} and not taken yet, or {@code null}; taking clears it */
    FullHttpResponse takeAnswer();

    /**
     * Sees the backend's response body as it is relayed (the cache fill); set in the response phase at the latest.
     *
     * @param tap the tap
     */
    void tap(BodyTap tap);

    /**
     * Lets the backend's response head be replaced by a whole response (a 304 turned into the stored response it
     * freshened, a 5xx into a stale one): the backend's body is then dropped. Also asked with Portico's own error
     * response when the exchange failed before any response (the backend unreachable, reset or silent).
     *
     * @param substitute given the head and whether Portico made it (a failure), returns the response to send
     *     instead, or {@code null} to keep it
     */
    void substitute(BiFunction<HttpResponse, Boolean, FullHttpResponse> substitute);

    /**
     * @param status what the cache did, for the access log's {@code cache} field
     */
    void cacheStatus(String status);

    /**
     * @return the route's backend as this request's exchange would reach it, for a request of the cache's own
     *     (background revalidation); {@code null} when the cache may not make one (the route sends the PROXY
     *     protocol, which names a client)
     */
    Origin origin();

    /** A view of a response body as it passes. */
    interface BodyTap {
        /**
         * @param content the bytes of one part; not retained (copy what is kept)
         * @param last whether this is the last part
         */
        void onContent(ByteBuf content, boolean last);

        /** @return whether the rest of the body is wanted even if the client went away */
        default boolean stillWanted() {
            return false;
        }

        /** The response ended before its last part. */
        void onAbort();
    }
}
