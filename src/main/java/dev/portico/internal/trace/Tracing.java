package dev.portico.internal.trace;

import dev.portico.config.TracingConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The spans of one tracing configuration: a request's SERVER span and its tries' CLIENT spans, made on the event
 * loop and exported by {@link TraceExport} off it. {@link #server} decides sampling first ({@link Sampling}): a
 * request left out gets {@code null}, and the callers then do nothing more for it.
 */
public final class Tracing {
    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<String> URL_SCHEME = AttributeKey.stringKey("url.scheme");
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.stringKey("client.address");
    static final AttributeKey<String> PROTOCOL_VERSION = AttributeKey.stringKey("network.protocol.version");
    static final AttributeKey<String> USER_AGENT = AttributeKey.stringKey("user_agent.original");
    static final AttributeKey<Long> REQUEST_BODY = AttributeKey.longKey("http.request.body.size");
    static final AttributeKey<Long> RESPONSE_BODY = AttributeKey.longKey("http.response.body.size");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<Long> RESEND_COUNT = AttributeKey.longKey("http.request.resend_count");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("portico.attempt");
    static final AttributeKey<String> RETRY_REASON = AttributeKey.stringKey("portico.retry.reason");
    static final AttributeKey<String> POLICY = AttributeKey.stringKey("portico.policy");
    private static final io.netty.util.AsciiString TRACEPARENT = io.netty.util.AsciiString.cached("traceparent");
    private static final AttributeKey<Boolean> REUSED = AttributeKey.booleanKey("portico.connection.reused");

    private final TracingConfig config;
    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final Sampling sampling;

    Tracing(TracingConfig config, SdkTracerProvider provider) {
        this.config = config;
        this.provider = provider;
        this.tracer = provider.get("dev.portico", SdkExport.version());
        this.sampling = new Sampling(config.samplerRatio(), config.samplerParentBased());
    }

    /** @return the configuration these spans follow */
    TracingConfig config() {
        return config;
    }

    /**
     * Starts the SERVER span of a request, if it is sampled. Call before a {@code traceparent} is generated for it.
     *
     * @param request the request head as the client sent it
     * @param route the route's configured path, or {@code null} when no route matched
     * @param client the client's address
     * @param secure whether the request came over TLS
     * @param startNanos when the request was admitted ({@link System#nanoTime}), or 0 for now
     * @return the span, or {@code null} when the request is not traced
     */
    public Span server(HttpRequest request, String route, String client, boolean secure, long startNanos) {
        HttpHeaders h = request.headers();
        if (!sampling.sampled(h.get(TRACEPARENT))) {
            return null;
        }
        Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), h, GETTER);
        String method = request.method().name();
        String uri = request.uri();
        int q = uri.indexOf('?');
        String host = h.get(HttpHeaderNames.HOST);
        var b = tracer.spanBuilder(route == null ? method : method + " " + route).setParent(parent)
                .setSpanKind(SpanKind.SERVER)
                .setAttribute(METHOD, method)
                .setAttribute(URL_PATH, q < 0 ? uri : uri.substring(0, q))
                .setAttribute(URL_SCHEME, secure ? "https" : "http")
                .setAttribute(CLIENT_ADDRESS, client)
                .setAttribute(PROTOCOL_VERSION, protocolVersion(request));
        if (route != null) {
            b.setAttribute(ROUTE, route);
        }
        if (startNanos != 0) {
            b.setStartTimestamp(epochNanos() - (System.nanoTime() - startNanos), TimeUnit.NANOSECONDS);
        }
        if (host != null) {
            int colon = host.lastIndexOf(':');
            boolean port = colon > 0 && host.indexOf(']', colon) < 0;
            b.setAttribute(SERVER_ADDRESS, port ? host.substring(0, colon) : host);
        }
        String agent = h.get(HttpHeaderNames.USER_AGENT);
        if (agent != null) {
            b.setAttribute(USER_AGENT, agent);
        }
        return b.startSpan();
    }

    /**
     * The span of a request Portico answered itself (refused, not found, redirected, answered by a policy),
     * started and ended at once.
     *
     * @param request the request head
     * @param route the route's configured path, or {@code null}
     * @param client the client's address
     * @param secure whether the request came over TLS
     * @param status the status sent, 0 if none
     * @param bytes the response body bytes
     * @param policy the policy that answered, or {@code null}
     * @param startNanos when the request was admitted ({@link System#nanoTime}), or 0 for now
     */
    public void local(HttpRequest request, String route, String client, boolean secure, int status, long bytes,
                      String policy, long startNanos) {
        Span s = server(request, route, client, secure, startNanos);
        if (s != null) {
            if (policy != null) {
                s.setAttribute(POLICY, policy);
            }
            endServer(s, status, 0, bytes, null);
        }
    }

    /**
     * Starts the CLIENT span of one upstream try, child of the request's span.
     *
     * @param server the request's span
     * @param method the request method
     * @param host the endpoint's host or address
     * @param port the endpoint's port
     * @param attempt the try's number, from 1
     * @return the span
     */
    public Span attempt(Span server, String method, String host, int port, int attempt) {
        var b = tracer.spanBuilder(method).setParent(Context.root().with(server)).setSpanKind(SpanKind.CLIENT)
                .setAttribute(METHOD, method)
                .setAttribute(SERVER_ADDRESS, host)
                .setAttribute(SERVER_PORT, (long) port)
                .setAttribute(ATTEMPT, (long) attempt);
        if (attempt > 1) {
            b.setAttribute(RESEND_COUNT, (long) attempt - 1);
        }
        return b.startSpan();
    }

    /**
     * A try got its connection: the connect and TLS handshake as events if it is a new one, and the try's span
     * named in the {@code traceparent} the backend gets.
     *
     * @param attempt the try's span
     * @param reused whether the connection came from the pool
     * @param connectedNanos when a new connection was established ({@link System#nanoTime}), 0 if unknown
     * @param handshakeNanos when its TLS handshake completed, 0 if none
     * @param upstream the headers of the request sent upstream
     */
    public static void connected(Span attempt, boolean reused, long connectedNanos, long handshakeNanos,
                                 HttpHeaders upstream) {
        attempt.setAttribute(REUSED, reused);
        if (!reused) {
            long now = System.nanoTime();
            long epoch = epochNanos();
            if (connectedNanos != 0) {
                attempt.addEvent("connect", epoch - (now - connectedNanos), TimeUnit.NANOSECONDS);
            }
            if (handshakeNanos != 0) {
                attempt.addEvent("tls.handshake", epoch - (now - handshakeNanos), TimeUnit.NANOSECONDS);
            }
        }
        attempt.addEvent("connection.acquired");
        W3CTraceContextPropagator.getInstance().inject(Context.root().with(attempt), upstream, SETTER);
    }

    /**
     * Ends a try that failed and is retried.
     *
     * @param attempt the try's span
     * @param reason why it failed
     */
    public static void retried(Span attempt, String reason) {
        attempt.setAttribute(RETRY_REASON, reason);
        attempt.setStatus(StatusCode.ERROR, reason);
        attempt.end();
    }

    /**
     * Ends a request's span.
     *
     * @param span the span
     * @param status the status sent, 0 if none
     * @param requestBytes request body bytes received
     * @param responseBytes response body bytes sent
     * @param failure the failure kind, or {@code null}
     */
    public static void endServer(Span span, int status, long requestBytes, long responseBytes, String failure) {
        if (status > 0) {
            span.setAttribute(STATUS, (long) status);
        }
        span.setAttribute(REQUEST_BODY, requestBytes);
        span.setAttribute(RESPONSE_BODY, responseBytes);
        if (failure != null) {
            span.setAttribute(ERROR_TYPE, failure);
            span.setStatus(StatusCode.ERROR, failure);
        } else if (status >= 500) {
            span.setAttribute(ERROR_TYPE, Integer.toString(status));
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    /** Ends export: what is queued is sent (for up to the export timeout), then the exporter closes. */
    void close() {
        provider.shutdown().join(config.otlp().timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    /**
     * Sends what is queued now.
     *
     * @param timeout how long to wait for it
     * @return whether it was sent
     */
    public boolean flush(Duration timeout) {
        return provider.forceFlush().join(timeout.toMillis(), TimeUnit.MILLISECONDS).isSuccess();
    }

    private static String protocolVersion(HttpRequest request) {
        var v = request.protocolVersion();
        return v.majorVersion() == 2 ? "2" : v.majorVersion() + "." + v.minorVersion();
    }

    private static long epochNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private static final TextMapGetter<HttpHeaders> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
            return carrier.names();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private static final TextMapSetter<HttpHeaders> SETTER = (carrier, key, value) -> carrier.set(key, value);
}
