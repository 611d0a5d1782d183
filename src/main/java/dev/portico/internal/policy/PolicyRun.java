package dev.portico.internal.policy;

import dev.portico.internal.metrics.PolicyDecisions;
import dev.portico.internal.cache.ExchangeHooks;
import dev.portico.policy.Decision;
import dev.portico.policy.Headers;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.Suspension;
import dev.portico.internal.upstream.UpstreamPool;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request on its way through a route's chain: the {@link RequestContext} the policies see, and the runner of
 * their phases. Made only for routes with policies. Runs on the client connection's event loop; a suspension
 * resumes it there. The request phases run in order until one answers, fails or suspends; the response phases of
 * the policies whose request phase ran run in reverse order on the response head.
 */
public final class PolicyRun implements RequestContext, ExchangeHooks {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyRun.class);

    /** Where a run reports its outcome: the request's admission. Called on the event loop. */
    public interface Host {
        /**
         * Every request phase let the request through: forward it.
         *
         * @param run the run
         */
        void policiesPassed(PolicyRun run);

        /**
         * A policy answered the request itself.
         *
         * @param run the run
         * @param response the answer
         * @param policy the name of the policy that answered, for the access log
         */
        void policyAnswered(PolicyRun run, LocalResponse response, String policy);

        /**
         * A policy failed (threw, returned nothing, or its suspension failed): answer 500, or 504 when the cause is a
         * {@link TimeoutException}.
         *
         * @param run the run
         * @param cause what went wrong
         * @param policy the name of the policy, for the log
         */
        void policyFailed(PolicyRun run, Throwable cause, String policy);
    }

    private final PolicyChain chain;
    private final Host host;
    private final EventExecutor loop;
    private final HttpRequest request;
    private final String originalPath;
    private final String query;
    /** The Host as received (port and case included), or null; {@link #host()} derives the bare name on demand. */
    private final String rawHost;
    private String hostName;
    private final boolean secure;
    private final String protocol;
    private final InetAddress client;
    private final String clientIp;
    private final String requestId;
    private final String route;
    private String path;
    private Headers headers;
    /** The next request phase to run; also how many ran (their response phases run). */
    private int next;
    private Object[] attachments;
    /** The claims of a token a policy verified (jwt), for the policies after it; empty until then. */
    private Map<String, Object> verifiedClaims = Map.of();
    private PolicyWait suspension;
    /** The body transform a response phase set (compression), while a caller that applies one runs the phases. */
    private BodyTransform body;
    private boolean bodyTransformable;
    private boolean inRequestPhase;
    private boolean cancelled;
    /** The backend connections of this run's event loop, for policies that call a service (forward_auth). */
    private UpstreamPool upstreamPool;
    /** What a waiting policy lets go of when the client leaves (its call to a service); null for nothing. */
    private Runnable onCancel;
    /** Set by {@link #reportError()}: the current policy's decision counts as an error whatever it was. */
    private boolean errorReported;
    /** The cache's hooks (see {@link ExchangeHooks}); all null unless a cache policy set them. */
    private volatile FullHttpResponse answer;
    private BodyTap tap;
    private BiFunction<HttpResponse, Boolean, FullHttpResponse> substitute;
    private String cacheStatus;
    private dev.portico.internal.cache.Origin origin;

    /**
     * @param chain the route's policies
     * @param host where the outcome goes
     * @param loop the client connection's event loop
     * @param request the request head; request phases change its fields
     * @param path the request path as received
     * @param query the query with its {@code ?}, or {@code ""}
     * @param rawHost the Host (or absolute-form authority) as received, or {@code null}
     * @param secure whether the request came over TLS
     * @param protocol e.g. {@code HTTP/1.1}
     * @param client the client address
     * @param requestId the request id, or {@code ""}
     * @param route the route's path prefix, or {@code ""}
     */
    public PolicyRun(PolicyChain chain, Host host, EventExecutor loop, HttpRequest request, String path, String query,
                     String rawHost, boolean secure, String protocol, InetAddress client, String requestId,
                     String route) {
        this.chain = chain;
        this.host = host;
        this.loop = loop;
        this.request = request;
        this.originalPath = path;
        this.path = path;
        this.query = query;
        this.rawHost = rawHost;
        this.secure = secure;
        this.protocol = protocol;
        this.client = client;
        this.clientIp = client.getHostAddress();
        this.requestId = requestId;
        this.route = route;
    }

    /** Runs the request phases from the first: the outcome goes to the host, now or after a suspension. */
    public void start() {
        runPhases();
    }

    /** Marks the phases as not run, so a response gets only the response phases (a refusal before the chain). */
    public void skipRequestPhases() {
        next = chain.policies.length;
    }

    private void runPhases() {
        Policy[] policies = chain.policies;
        while (next < policies.length) {
            int i = next++;
            Decision d;
            inRequestPhase = true;
            errorReported = false;
            try {
                d = policies[i].onRequest(this);
            } catch (RuntimeException | LinkageError e) {
                suspension = null;
                chain.count(i, PolicyDecisions.ERROR, errorReported);
                host.policyFailed(this, e, chain.names[i]);
                return;
            } finally {
                inRequestPhase = false;
            }
            if (d == null) {
                chain.count(i, PolicyDecisions.ERROR, errorReported);
                host.policyFailed(this, new IllegalStateException("request phase returned null"), chain.names[i]);
                return;
            }
            if (d.isSuspended()) {
                if (suspension == null) {
                    chain.count(i, PolicyDecisions.ERROR, errorReported);
                    host.policyFailed(this, new IllegalStateException("returned suspended() without suspend()"),
                            chain.names[i]);
                } else {
                    suspension.arm(chain.names[i]);
                }
                return;
            }
            if (d.response() != null) {
                chain.count(i, PolicyChain.outcome(d.response()), errorReported);
                host.policyAnswered(this, d.response(), chain.names[i]);
                return;
            }
            chain.count(i, PolicyDecisions.ALLOWED, errorReported);
        }
        host.policiesPassed(this);
    }

    /**
     * Makes the decision of the policy now deciding count as {@code error} in {@code portico_policy_decisions_total}
     * whatever it decides: for a built-in policy that worked around a failure (a store it could not reach) by
     * letting the request through or refusing it. Call it in the request phase, or before resuming its suspension.
     */
    public void reportError() {
        errorReported = true;
    }

    /**
     * Runs the response phases, last policy first, on a response head before it is written. A phase that throws
     * is logged and skipped: the head is sent as the other phases left it.
     *
     * @param response the head
     * @param local whether Portico made the response
     */
    public void onResponse(HttpResponse response, boolean local) {
        if (next == 0) {
            return;
        }
        NettyResponseHead head = new NettyResponseHead(response, local);
        for (int i = next - 1; i >= 0; i--) {
            try {
                chain.policies[i].onResponse(this, head);
            } catch (RuntimeException e) {
                LOG.warn("policy {} on route {} failed on a response: {}", chain.names[i],
                        route.isEmpty() ? "-" : route, String.valueOf(e));
            }
        }
    }

    /**
     * Runs the response phases on the head of a body the caller streams itself, and lets them set a
     * {@link BodyTransform} for it (compression). The caller applies it to every part ({@link BodyTransforms}),
     * then finishes it, or closes it if the exchange fails.
     *
     * @param response the head
     * @param local whether Portico made the response
     * @return the transform for the body, or {@code null} for none
     */
    public BodyTransform onStreamedResponse(HttpResponse response, boolean local) {
        bodyTransformable = true;
        try {
            onResponse(response, local);
        } finally {
            bodyTransformable = false;
        }
        BodyTransform t = body;
        body = null;
        return t;
    }

    /**
     * Runs the response phases on a response Portico holds whole, and applies the body transform they set.
     *
     * @param response the response (released if it is replaced)
     * @return the response to write: {@code response}, or one with the transformed body
     */
    public FullHttpResponse onLocalResponse(FullHttpResponse response) {
        BodyTransform t = onStreamedResponse(response, true);
        return t == null ? response : BodyTransforms.whole(t, response);
    }

    /** @return whether the response phases now running may set a body transform (the caller applies it) */
    boolean bodyTransformable() {
        return bodyTransformable;
    }

    /**
     * Sets the transform of the response body, from a response phase.
     *
     * @param t the transform; closed here if it cannot be used
     * @throws IllegalStateException if the caller does not apply transforms, or a transform is set already
     */
    void transformBody(BodyTransform t) {
        if (!bodyTransformable || body != null) {
            t.close();
            throw new IllegalStateException("one body transform per response, from a phase that may set one");
        }
        body = t;
    }

    /** The client went away: a suspension that decides later does nothing. */
    public void cancel() {
        cancelled = true;
        if (suspension != null) {
            suspension.cancelTimer();
        }
        Runnable r = onCancel;
        onCancel = null;
        if (r != null) {
            r.run();
        }
    }

    /**
     * @param action run on the event loop if the client leaves while this run waits (not after it resumed)
     */
    void onCancel(Runnable action) {
        onCancel = action;
    }

    /** @param pool the upstream pool of this run's event loop */
    public void upstreamPool(UpstreamPool pool) {
        upstreamPool = pool;
    }

    /** @return the upstream pool of this run's event loop, or {@code null} when none was given */
    UpstreamPool upstreamPool() {
        return upstreamPool;
    }

    /** @return the client connection's event loop */
    EventExecutor loop() {
        return loop;
    }

    /** @return whether the request waits on a suspension */
    public boolean suspended() {
        return suspension != null;
    }

    /** @return the head the phases changed */
    public HttpRequest request() {
        return request;
    }

    @Override
    public String method() {
        return request.method().name();
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String originalPath() {
        return originalPath;
    }

    @Override
    public String query() {
        return query;
    }

    @Override
    public String host() {
        if (hostName == null) {
            hostName = bareHost(rawHost); // only policies that ask pay for it
        }
        return hostName;
    }

    @Override
    public String scheme() {
        return secure ? "https" : "http";
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public InetAddress clientAddress() {
        return client;
    }

    @Override
    public String clientIp() {
        return clientIp;
    }

    @Override
    public String requestId() {
        return requestId;
    }

    @Override
    public String route() {
        return route;
    }

    @Override
    public Headers headers() {
        if (headers == null) {
            headers = new NettyHeaders(request.headers());
        }
        return headers;
    }

    @Override
    public void setPath(String value) {
        Objects.requireNonNull(value, "path");
        if (!OriginPath.valid(value)) {
            throw new IllegalArgumentException("not an origin-form path: \"" + value + "\"");
        }
        path = value;
    }

    @Override
    public Suspension suspend(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (!inRequestPhase || suspension != null) {
            throw new IllegalStateException("suspend() is for a request phase, once");
        }
        suspension = new PolicyWait(this, loop, timeout.toNanos());
        return suspension;
    }

    @Override
    public void attach(Policy owner, Object value) {
        int i = indexOf(owner);
        if (attachments == null) {
            if (value == null) {
                return;
            }
            attachments = new Object[chain.policies.length];
        }
        attachments[i] = value;
    }

    @Override
    public Object attachment(Policy owner) {
        return attachments == null ? null : attachments[indexOf(owner)];
    }

    /**
     * Records the claims of a token verified by a policy, so that later policies of the chain (a rate limit keyed by
     * a claim, a header set from one) can read them.
     *
     * @param claims the verified claims, by name
     */
    public void verifiedClaims(Map<String, Object> claims) {
        verifiedClaims = Map.copyOf(claims);
    }

    /** @return the claims a policy verified earlier on this request, or an empty map */
    public Map<String, Object> verifiedClaims() {
        return verifiedClaims;
    }

    @Override
    public void answerWith(FullHttpResponse response) {
        answer = response;
    }

    @Override
    public FullHttpResponse takeAnswer() {
        FullHttpResponse r = answer;
        answer = null;
        return r;
    }

    @Override
    public void tap(BodyTap value) {
        tap = value;
    }

    @Override
    public void substitute(BiFunction<HttpResponse, Boolean, FullHttpResponse> value) {
        substitute = value;
    }

    @Override
    public void cacheStatus(String status) {
        cacheStatus = status;
    }

    /** @param value the route's backend for requests a cache makes on its own, or {@code null} for none */
    public void origin(dev.portico.internal.cache.Origin value) {
        origin = value;
    }

    @Override
    public dev.portico.internal.cache.Origin origin() {
        return origin;
    }

    /** @return what a cache policy did, or {@code null} */
    public String cacheStatus() {
        return cacheStatus;
    }

    /**
     * @param head the backend's response head, or Portico's own error response for a failed exchange
     * @param local whether Portico made {@code head}
     * @return the whole response a policy sends instead (a cache's stored one), or {@code null} to send {@code head}
     */
    public FullHttpResponse substitute(HttpResponse head, boolean local) {
        return substitute == null ? null : substitute.apply(head, local);
    }

    /**
     * Shows a part of the backend's response body to a policy's tap, if one is set.
     *
     * @param content the part's bytes (not retained)
     * @param last whether it is the last part
     */
    public void onResponseBody(ByteBuf content, boolean last) {
        BodyTap t = tap;
        if (t != null) {
            if (last) {
                tap = null;
            }
            t.onContent(content, last);
        }
    }

    /** @return whether a tap still wants the rest of the body after the client went away */
    public boolean bodyStillWanted() {
        return tap != null && tap.stillWanted();
    }

    /** The exchange failed before the response's last part: a tap learns it. */
    public void responseAborted() {
        BodyTap t = tap;
        tap = null;
        if (t != null) {
            t.onAbort();
        }
    }

    private int indexOf(Policy owner) {
        Policy[] p = chain.policies;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == owner) {
                return i;
            }
        }
        throw new IllegalArgumentException("not a policy of this route: " + owner);
    }

    /** The host without its port, lower case; {@code ""} for none. */
    static String bareHost(String host) {
        if (host == null) {
            return "";
        }
        int end = host.startsWith("[") ? host.indexOf(']') + 1 : host.indexOf(':');
        return (end > 0 ? host.substring(0, end) : host).toLowerCase(java.util.Locale.ROOT);
    }

    /** Called on the event loop once a suspension decided. */
    void resumed(PolicyWait w) {
        if (cancelled || suspension != w) {
            return;
        }
        suspension = null;
        onCancel = null;
        int i = next - 1;
        if (w.failure() != null) {
            chain.count(i, PolicyDecisions.ERROR, errorReported);
            host.policyFailed(this, w.failure(), w.policy());
        } else if (w.response() != null) {
            chain.count(i, PolicyChain.outcome(w.response()), errorReported);
            host.policyAnswered(this, w.response(), w.policy());
        } else {
            chain.count(i, PolicyDecisions.ALLOWED, errorReported);
            runPhases();
        }
    }
}
