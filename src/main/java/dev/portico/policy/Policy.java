package dev.portico.policy;

/**
 * A step on a route's chain. The request phases of a route's policies run in order once the request is routed;
 * then, only if all of them let it through, {@code Expect: 100-continue} is answered, an endpoint chosen and the
 * request forwarded. The response phases run in reverse order before the response head is written, for a backend's
 * response, a policy's local response and Portico's own error responses alike.
 *
 * <p>One instance serves every request of the routes that use it, on several event loops at once: keep per-request
 * state in {@link RequestContext#attach} and shared state thread-safe. A phase that throws ends the exchange with
 * 500 (logged with the route); the connection stays usable.
 */
public interface Policy {
    /**
     * The request phase.
     *
     * @param request the request, its headers and path changeable
     * @return {@link Decision#proceed()}, {@link Decision#respond(LocalResponse)}, or the decision of a
     *     {@link RequestContext#suspend suspension}
     */
    default Decision onRequest(RequestContext request) {
        return Decision.proceed();
    }

    /**
     * The response phase: runs before the response head is written, for every response of a request whose request
     * phase of this policy ran (and, for {@code default_policies}, for responses without a route).
     *
     * @param request the request
     * @param response the response head, its headers changeable
     */
    default void onResponse(RequestContext request, ResponseHead response) {
    }
}
