package dev.portico.internal.proxy;

import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.metrics.Exemplars;
import dev.portico.internal.metrics.RouteMetrics;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.route.Route;
import dev.portico.internal.trace.Tracing;
import dev.portico.internal.upstream.UpstreamConnection;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one exchange tells the outside: its access-log line, its metrics, its request id on the response, and one
 * log line when it fails. Made by the frontend before the request head is rewritten for the backend, because the
 * rewrite takes over the client's header object.
 */
public final class ExchangeLog {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyExchange.class);

    private final ExchangeHost host;
    private final AccessLog accessLog;
    private final HttpRequest request;
    private final String clientAddress;
    private final Route route;
    private final String routeLabel;
    private final RouteMetrics metrics;
    private final AsciiString requestIdName;
    private final String requestId;
    private final String traceId;
    private final String referer;
    private final String userAgent;
    private final long startNanos = System.nanoTime();
    private long upstreamNanos = -1;
    /** The request's span and its current try's, when the request is traced; else null, and nothing is done. */
    private Tracing tracing;
    private Span span;
    private Span trySpan;
    private String failure;
    private String cache;

    /**
     * @param host the client connection
     * @param accessLog where the line goes
     * @param request the client's request head, before it is rewritten
     * @param clientAddress the client's IP address
     * @param route the matched route
     * @param routeLabel the route's label in metrics and logs
     * @param metrics the route's meters
     * @param requestIdName the request id field, or {@code null} if request ids are off
     * @param requestId the request id, or {@code null}
     * @param traceId the W3C trace id, or {@code null}
     */
    public ExchangeLog(ExchangeHost host, AccessLog accessLog, HttpRequest request, String clientAddress,
                       Route route, String routeLabel, RouteMetrics metrics, AsciiString requestIdName,
                       String requestId, String traceId) {
        this.host = host;
        this.accessLog = accessLog;
        this.request = request;
        this.clientAddress = clientAddress;
        this.route = route;
        this.routeLabel = routeLabel;
        this.metrics = metrics;
        this.requestIdName = requestIdName;
        this.requestId = requestId;
        this.traceId = traceId;
        // Read now: the head's fields become the backend request's, and may be changed before the exchange ends.
        this.referer = accessLog.enabled() ? request.headers().get(HttpHeaderNames.REFERER) : null;
        this.userAgent = accessLog.enabled() ? request.headers().get(HttpHeaderNames.USER_AGENT) : null;
    }

    /**
     * Traces this exchange: its tries get spans, children of {@code span}, which ends with the exchange.
     *
     * @param tracing the spans' source
     * @param span the request's SERVER span
     */
    public void trace(Tracing tracing, Span span) {
        this.tracing = tracing;
        this.span = span;
    }

    /** A try starts on {@code endpoint}: its span starts (the previous try's, if still open, ends). */
    void tryStarted(Endpoint endpoint, int attempt) {
        if (span == null) {
            return;
        }
        if (trySpan != null) {
            trySpan.end();
        }
        trySpan = tracing.attempt(span, request.method().name(), endpoint.address().getHostString(),
                endpoint.address().getPort(), attempt);
    }

    /** The try waits for a connection slot ({@code max_connections}, {@code max_pending}). */
    void tryQueued() {
        if (trySpan != null) {
            trySpan.addEvent("pool.wait");
        }
    }

    /** The try has its connection: the request head goes out now, naming the try's span in its traceparent. */
    void tryConnected(UpstreamConnection connection, HttpHeaders upstreamHeaders) {
        if (trySpan != null) {
            Tracing.connected(trySpan, connection.reused(), connection.connectedNanos(),
                    connection.handshakeNanos(), upstreamHeaders);
        }
    }

    private void tryRetried(String why) {
        if (trySpan != null) {
            Tracing.retried(trySpan, why);
            trySpan = null;
        }
    }

    /** @return the client's IP address */
    String clientAddress() {
        return clientAddress;
    }

    /** @return the request id, or {@code null} if request ids are off */
    public String requestId() {
        return requestId;
    }

    /** The backend's response head arrived: note the time, and give the client the request id. */
    void responseHead(HttpResponse toClient) {
        upstreamNanos = System.nanoTime() - startNanos;
        if (trySpan != null) {
            trySpan.setAttribute("http.response.status_code", toClient.status().code());
            Exemplars.begin(span.getSpanContext().getTraceId(), span.getSpanContext().getSpanId());
        }
        metrics.upstreamResponse(upstreamNanos);
        if (trySpan != null) {
            Exemplars.end();
        }
        if (requestIdName != null) {
            toClient.headers().set(requestIdName, requestId);
        }
    }

    /**
     * The end of the exchange: its metrics and its access-log line.
     *
     * @param status the status sent, 0 when none was
     * @param requestBytes request body bytes received
     * @param responseBytes response body bytes sent
     * @param endpoint the endpoint of the last try, or {@code null} if none was tried
     * @param attempts the tries made
     */
    void access(int status, long requestBytes, long responseBytes, Endpoint endpoint, int attempts) {
        long duration = System.nanoTime() - startNanos;
        if (span == null) {
            metrics.exchange(status, duration, requestBytes, responseBytes);
        } else {
            if (trySpan != null) {
                if (failure != null) {
                    trySpan.setStatus(StatusCode.ERROR, failure);
                }
                trySpan.end();
                trySpan = null;
            }
            Exemplars.begin(span.getSpanContext().getTraceId(), span.getSpanContext().getSpanId());
            metrics.exchange(status, duration, requestBytes, responseBytes);
            Exemplars.end();
            Tracing.endServer(span, status, requestBytes, responseBytes, failure);
        }
        if (!accessLog.enabled()) {
            return;
        }
        // The start's wall-clock time, from the end's: one clock read fewer for every request when there is no log.
        long startMillis = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(duration);
        accessLog.log(new AccessLogEntry(startMillis, clientAddress, request.method().name(), request.uri(),
                request.protocolVersion().text(), status, responseBytes, duration,
                endpoint == null ? null : endpoint.text(), upstreamNanos, requestId, routeLabel, attempts, referer,
                userAgent, traceId, host.tlsSummary(), null, cache));
    }

    /** @param status what a cache policy did with the request, for the access log's {@code cache} field */
    public void cache(String status) {
        this.cache = status;
    }

    /**
     * The access-log line of a request answered without an exchange (refused, or no route).
     *
     * @param accessLog where the line goes
     * @param request the request head
     * @param client the client's IP address
     * @param status the status sent, 0 if none
     * @param requestId the request id, or {@code null}
     * @param tls the connection's TLS version and cipher suite, or {@code null}
     */
    public static void rejected(AccessLog accessLog, HttpRequest request, String client, int status,
                                String requestId, String tls) {
        answered(accessLog, request, client, status, 0, requestId, null, tls, null);
    }

    /**
     * The access-log line of a request Portico answered itself: refused, redirected, or answered by a policy.
     *
     * @param accessLog where the line goes
     * @param request the request head
     * @param client the client's IP address
     * @param status the status sent, 0 if none
     * @param bytes the response body bytes sent
     * @param requestId the request id, or {@code null}
     * @param route the route's label, or {@code null}
     * @param tls the connection's TLS version and cipher suite, or {@code null}
     * @param policy the policy that answered, or {@code null}
     */
    public static void answered(AccessLog accessLog, HttpRequest request, String client, int status, long bytes,
                                String requestId, String route, String tls, String policy) {
        answered(accessLog, request, client, status, bytes, requestId, route, tls, policy, null);
    }

    /**
     * The access-log line of a request Portico answered itself, with what a cache policy did.
     *
     * @param accessLog where the line goes
     * @param request the request head
     * @param client the client's IP address
     * @param status the status sent, 0 if none
     * @param bytes the response body bytes sent
     * @param requestId the request id, or {@code null}
     * @param route the route's label, or {@code null}
     * @param tls the connection's TLS version and cipher suite, or {@code null}
     * @param policy the policy that answered, or {@code null}
     * @param cache the cache's outcome, or {@code null}
     */
    public static void answered(AccessLog accessLog, HttpRequest request, String client, int status, long bytes,
                                String requestId, String route, String tls, String policy, String cache) {
        if (!accessLog.enabled()) {
            return;
        }
        accessLog.log(new AccessLogEntry(System.currentTimeMillis(), client, request.method().name(), request.uri(),
                request.protocolVersion().text(), status, bytes, 0, null, -1, requestId, route, 0,
                request.headers().get(HttpHeaderNames.REFERER), request.headers().get(HttpHeaderNames.USER_AGENT),
                null, tls, policy, cache));
    }

    /**
     * A request target fit for an operator's log line: cut at 200 characters and escaped as in the access log, so a
     * client cannot write terminal control sequences or fake lines into it.
     *
     * @param uri the raw request target
     * @return the printable form
     */
    public static String printableTarget(String uri) {
        boolean cut = uri.length() > 200;
        StringBuilder sb = AccessLogFormat.escaped(new StringBuilder(), cut ? uri.substring(0, 200) : uri);
        return cut ? sb.append("...").toString() : sb.toString();
    }

    /** One WARN line per failed exchange (DEBUG when the client went away: nothing to fix on our side). */
    void failed(ProxyFailure failure, Endpoint endpoint) {
        metrics.rejected(failure.kind());
        if (span != null) {
            this.failure = failure.kind().name().toLowerCase(java.util.Locale.ROOT);
        }
        if (failure.kind() == Kind.CONNECT_REFUSED || failure.kind() == Kind.CONNECT_TIMEOUT) {
            metrics.connectFailure(failure.kind() == Kind.CONNECT_TIMEOUT);
        }
        if (failure.kind() != Kind.CLIENT_ABORTED) {
            LOG.warn("{} {} {} failed: {} ({}) route={} upstream={} endpoint={}{}", id(), request.method(),
                    printableTarget(request.uri()), failure.kind(), failure.getMessage(), route.config().path(),
                    route.upstream().name(), endpoint == null ? "-" : endpoint.text(),
                    requestId == null ? "" : " request_id=" + requestId);
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("{} {} {}", id(), failure.kind(), failure.getMessage());
        }
    }

    void retrying(Endpoint endpoint) {
        metrics.retry();
        tryRetried("connection closed before a response (keep-alive race)");
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} connection to {} was closed before a response; sending the request again", id(), endpoint);
        }
    }

    void retry(Endpoint endpoint, String why, int tries) {
        metrics.retry();
        tryRetried(why);
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} try {} on {} failed ({}); retrying", id(), tries, endpoint, why);
        }
    }

    /** The exchange id for logs: the client connection's id and the request's number on it. */
    private String id() {
        return host.clientChannel().id().asShortText() + "#" + host.requestNumber();
    }
}
