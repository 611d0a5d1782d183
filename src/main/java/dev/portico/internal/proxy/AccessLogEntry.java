package dev.portico.internal.proxy;

/**
 * What the access log records of one exchange.
 *
 * @param epochMillis when the request head arrived
 * @param client the client's IP address
 * @param method the request method
 * @param target the request target as received
 * @param version the request's HTTP version
 * @param status the status sent, 0 if none was
 * @param bytes response body bytes sent
 * @param durationNanos from request head to the end of the exchange
 * @param upstream the backend address, or {@code null} if none was involved
 * @param upstreamNanos from the exchange's start to the backend's response head, or -1 if none came
 * @param requestId the request id, or {@code null}
 * @param route the matched route's label, or {@code null}
 * @param attempts how many times the request was sent upstream
 * @param referer the Referer field, or {@code null}
 * @param userAgent the User-Agent field, or {@code null}
 * @param traceId the W3C trace id, or {@code null}
 * @param tls the TLS version and cipher suite of the client connection, or {@code null} on a plain one
 * @param policy the policy that answered the request itself, or {@code null}
 * @param cache what a cache policy did ({@code Cache-Status} parameters, e.g. {@code hit}), or {@code null}
 */
public record AccessLogEntry(long epochMillis, String client, String method, String target, String version,
                             int status, long bytes, long durationNanos, String upstream, long upstreamNanos,
                             String requestId, String route, int attempts, String referer, String userAgent,
                             String traceId, String tls, String policy, String cache) {
    /** An entry without a cache's outcome. */
    @SuppressWarnings("checkstyle:ParameterNumber")
    public AccessLogEntry(long epochMillis, String client, String method, String target, String version, int status,
                          long bytes, long durationNanos, String upstream, long upstreamNanos, String requestId,
                          String route, int attempts, String referer, String userAgent, String traceId, String tls,
                          String policy) {
        this(epochMillis, client, method, target, version, status, bytes, durationNanos, upstream, upstreamNanos,
                requestId, route, attempts, referer, userAgent, traceId, tls, policy, null);
    }

    /** An entry of a request no policy answered. */
    @SuppressWarnings("checkstyle:ParameterNumber")
    public AccessLogEntry(long epochMillis, String client, String method, String target, String version, int status,
                          long bytes, long durationNanos, String upstream, long upstreamNanos, String requestId,
                          String route, int attempts, String referer, String userAgent, String traceId, String tls) {
        this(epochMillis, client, method, target, version, status, bytes, durationNanos, upstream, upstreamNanos,
                requestId, route, attempts, referer, userAgent, traceId, tls, null, null);
    }
}
