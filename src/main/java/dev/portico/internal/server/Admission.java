package dev.portico.internal.server;

import dev.portico.config.UpstreamConfig;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.internal.cache.Origin;
import dev.portico.internal.grpc.GrpcAnswers;
import dev.portico.internal.grpc.GrpcCall;
import dev.portico.internal.policy.ClientAddress;
import dev.portico.internal.policy.PolicyChain;
import dev.portico.internal.policy.PolicyRun;
import dev.portico.policy.LocalResponse;
import dev.portico.internal.proxy.Correlation;
import dev.portico.internal.proxy.ExchangeLog;
import dev.portico.internal.proxy.HeaderRewriter;
import dev.portico.internal.proxy.ProxyExchange;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.proxy.WebSocketUpgrade;
import dev.portico.internal.route.Route;
import dev.portico.internal.upstream.UpstreamPool;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one admission path: what every request passes, whatever protocol carried it, before an exchange exists.
 * Validation, routing, {@code redirect_https}, limits, the client address behind trusted proxies, the route's
 * request policies, then {@code Expect: 100-continue} and the exchange. Responses Portico makes here (refusals,
 * redirects, policies' answers) go through the same response phases and the same access-log and metrics code. The
 * protocol handlers only translate ({@link RequestSide}). A route without policies allocates nothing here.
 */
final class Admission {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    /** Fields a policy's answer cannot carry: Portico frames the response and manages the connection. */
    private static final String[] MANAGED = {"content-length", "transfer-encoding", "connection", "keep-alive",
        "proxy-connection", "te", "trailer", "upgrade"};

    private Admission() {
    }

    /**
     * Admits a request head: answers it, or starts its exchange through {@link RequestSide#begin}.
     *
     * @param side the protocol handler
     * @param request the decoded head
     */
    static void admit(RequestSide side, HttpRequest request) {
        ProxyRuntime runtime = side.runtime();
        Snapshot snapshot = runtime.snapshot(); // once: the exchange keeps this configuration to its end
        ProxyFailure invalid = RequestValidator.check(request, snapshot.config.limits());
        if (invalid != null) {
            refuse(side, snapshot, invalid, request, true,
                    responsePhases(side, snapshot, snapshot.defaultChain, request, null));
            return;
        }
        HeaderRewriter.removeUnderscoreNames(request.headers());
        side.normalize(request);
        RequestTarget target;
        try {
            target = RequestTarget.parse(request.method(), request.uri());
        } catch (ProxyFailure f) {
            refuse(side, snapshot, f, request, true, responsePhases(side, snapshot, snapshot.defaultChain, request, null));
            return;
        }
        String clientHost = request.headers().get(HttpHeaderNames.HOST);
        String routingHost = target.authority() != null ? target.authority() : clientHost;
        boolean body = side.bodyFollows(request);
        HttpsRedirect redirect = side.redirect();
        if (redirect != null) {
            String location = redirect.location(routingHost, target.path() + target.query(), side.localAddress());
            FullHttpResponse r = ErrorResponses.of(HttpResponseStatus.PERMANENT_REDIRECT, location, true);
            r.headers().set(HttpHeaderNames.LOCATION, location);
            answer(side, snapshot, request, r, responsePhases(side, snapshot, snapshot.defaultChain, request, target),
                    body || !HttpUtil.isKeepAlive(request), null, null,
                    clientAddress(side, snapshot, request).getHostAddress(), 0);
            return;
        }
        Route route = snapshot.router.find(routingHost, target.routingPath());
        ProxyFailure refused = RequestValidator.admit(route, request);
        if (refused != null) {
            // Without a route the body can still be read and dropped; a body refused for itself cannot.
            PolicyChain chain = route != null ? route.policies() : snapshot.defaultChain;
            refuse(side, snapshot, refused, request, body || refused.kind() != Kind.NO_ROUTE,
                    responsePhases(side, snapshot, chain, request, target));
            return;
        }
        if (runtime.buffered().exhausted()) {
            if (!side.shed(request)) {
                refuse(side, snapshot, new ProxyFailure(Kind.OVERLOADED, "too many response bytes held for slow "
                        + "clients"), request, body, null);
            }
            return;
        }
        InetAddress client = clientAddress(side, snapshot, request);
        PolicyChain chain = route.policies();
        if (chain.isEmpty()) {
            forward(side, snapshot, request, route, target.path(), target.query(), routingHost, clientHost, client,
                    null, 0);
            return;
        }
        Waiting waiting = new Waiting(side, snapshot, request, route, target, routingHost, clientHost, client, body);
        PolicyRun run = new PolicyRun(chain, waiting, side.clientChannel().eventLoop(), request, target.path(),
                target.query(), routingHost, side.secure(), request.protocolVersion().text(), client,
                requestId(snapshot, request), route.config().path());
        run.upstreamPool(runtime.pool(side.clientChannel().eventLoop()));
        if (route.config().upstream().sendProxyProtocol() == UpstreamConfig.SendProxyProtocol.OFF) {
            run.origin(waiting); // a connection that opens with a PROXY header names a client: none for the cache's
        }
        side.hold(run);
        run.start();
    }

    /** Starts the exchange of an admitted request whose policies let it through. */
    private static void forward(RequestSide side, Snapshot snapshot, HttpRequest request, Route route, String path,
                                String query, String routingHost, String clientHost, InetAddress client,
                                PolicyRun run, long admittedNanos) {
        ProxyRuntime runtime = side.runtime();
        if (request.headers().contains(HttpHeaderNames.EXPECT)) {
            side.sendContinue(request); // only now: a request a policy refuses never makes the client send its body
        }
        String upstreamHost = routingHost != null ? routingHost : route.config().upstream().authority();
        String upstreamTarget = path.equals("*") ? "*" : route.upstreamTarget(path, query);
        boolean keepAlive = request.protocolVersion() == Http2StreamSide.HTTP_2 || HttpUtil.isKeepAlive(request);
        boolean webSocket = side.webSocket(request);
        String clientIp = client == side.peer() ? side.peerIp() : client.getHostAddress();
        GrpcCall grpc = GrpcCall.of(request, route.config().grpcWeb()); // before the head is rewritten in place
        ExchangeLog log = snapshot.exchangeLog(side, runtime.accessLog(), request, clientIp, route, admittedNanos);
        // X-Forwarded-For gets the hop Portico saw (the peer), after the chain it received.
        HttpRequest upstream = HeaderRewriter.upstreamRequest(request, upstreamTarget, upstreamHost, side.peerIp(),
                clientHost, side.secure());
        ProxyExchange exchange = new ProxyExchange(side, runtime.pool(side.clientChannel().eventLoop()), route, log,
                request, keepAlive, upstream, snapshot.config.timeouts().response().toMillis());
        if (run != null) {
            exchange.policies(run);
        }
        if (grpc != null) {
            grpc.prepare(upstream);
            exchange.grpc(grpc);
        }
        var sendProxy = route.config().upstream().sendProxyProtocol();
        if (sendProxy != UpstreamConfig.SendProxyProtocol.OFF) {
            exchange.proxyHeader(ProxyProtocolHandler.outbound(side.clientChannel(), client,
                    sendProxy == UpstreamConfig.SendProxyProtocol.V2));
        }
        if (webSocket) {
            WebSocketUpgrade.forward(upstream);
            // RFC 8441: for an HTTP/2 client the backend gets an HTTP/1.1 handshake, which Portico makes and checks.
            exchange.upgrade(snapshot.config.timeouts().tunnelIdle().toMillis(),
                    request.protocolVersion() == Http2StreamSide.HTTP_2 ? WebSocketUpgrade.handshake(upstream)
                    : null);
        }
        side.begin(exchange, log.requestId());
    }

    /** A refusal: logged as the protocol logs them, counted by kind, then answered through {@link #answer}. */
    private static void refuse(RequestSide side, Snapshot snapshot, ProxyFailure failure, HttpRequest request,
                               boolean close, PolicyRun phases) {
        side.logRefusal(failure, request);
        side.runtime().metrics().rejected(failure.kind());
        FullHttpResponse r = ErrorResponses.of(failure.kind().status(), failure.getMessage(), true);
        answer(side, snapshot, request, r, phases, close || !HttpUtil.isKeepAlive(request), null, null,
                side.peerIp(), 0);
    }

    /**
     * The tail of every response Portico makes for a request without an exchange: the response phases, the
     * request id, HEAD's empty body, the access-log line (naming the policy that answered) and the metrics.
     */
    private static void answer(RequestSide side, Snapshot snapshot, HttpRequest request, FullHttpResponse response,
                               PolicyRun phases, boolean close, String policy, Route route, String clientIp,
                               long admittedNanos) {
        String routePath = route == null ? null : route.config().path();
        if (phases != null) {
            response = phases.onLocalResponse(response);
        }
        String id = null;
        if (snapshot.requestIdName != null) {
            id = Correlation.requestId(request.headers(), snapshot.requestIdName);
            response.headers().set(snapshot.requestIdName, id);
        }
        int bytes = response.content().readableBytes();
        if (request.method().name().equals("HEAD")) {
            response.content().clear();
            bytes = 0;
        }
        int status = side.clientOpen() ? response.status().code() : 0;
        if (policy == null) {
            bytes = 0; // Portico's own refusals and redirects log no body, as they always have
        }
        ExchangeLog.answered(side.runtime().accessLog(), request, clientIp, status, bytes, id, routePath,
                side.tlsSummary(), policy, phases == null ? null : phases.cacheStatus());
        if (snapshot.tracing != null) {
            snapshot.tracing.local(request, routePath, clientIp, side.secure(), status, bytes, policy, admittedNanos);
        }
        if (route != null) { // a policy's answer (a cache hit, a 429, a 401) is one of its route's requests
            snapshot.routeMetrics(route).exchange(status, System.nanoTime() - admittedNanos, 0, bytes);
        } else {
            side.runtime().metrics().localResponse(status);
        }
        // Logged and counted above with the HTTP status that says why; a gRPC client reads it as a grpc-status.
        side.answer(request, GrpcAnswers.translate(request.headers(), response), close);
    }

    /**
     * The response phases of {@code chain} for a request whose request phases did not run (refused before them), or
     * {@code null} when there are none: only then is anything allocated.
     */
    static PolicyRun responsePhases(RequestSide side, Snapshot snapshot, PolicyChain chain, HttpRequest request,
                                    RequestTarget target) {
        if (chain.isEmpty()) {
            return null;
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        PolicyRun run = new PolicyRun(chain, NO_HOST, side.clientChannel().eventLoop(), request,
                target == null ? "" : target.path(), target == null ? "" : target.query(), host,
                side.secure(), request.protocolVersion().text(), clientAddress(side, snapshot, request),
                requestId(snapshot, request), "");
        run.skipRequestPhases();
        return run;
    }

    /** The client behind trusted proxies: the right-most untrusted {@code X-Forwarded-For} entry; else the peer. */
    static InetAddress clientAddress(RequestSide side, Snapshot snapshot, HttpRequest request) {
        InetAddress peer = side.peer();
        if (snapshot.trustedProxies.isEmpty()) {
            return peer;
        }
        return ClientAddress.resolve(peer, request.headers().getAll(X_FORWARDED_FOR), snapshot.trustedProxies);
    }

    private static String requestId(Snapshot snapshot, HttpRequest request) {
        return snapshot.requestIdName == null ? "" : Correlation.requestId(request.headers(), snapshot.requestIdName);
    }

    /** A policy's answer as a response: its fields, and the framing Portico sets. */
    static FullHttpResponse toResponse(LocalResponse r) {
        byte[] body = r.bodyLength() == 0 ? null : r.body();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(r.status()), body == null ? Unpooled.EMPTY_BUFFER
                : Unpooled.wrappedBuffer(body));
        HttpHeaders h = response.headers();
        for (Map.Entry<String, String> e : r.headers()) {
            h.add(e.getKey(), e.getValue());
        }
        for (String name : MANAGED) {
            h.remove(name);
        }
        if (r.status() != 204 && r.status() != 304) {
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, r.bodyLength());
        }
        return response;
    }

    /** The host of response-only runs: their request phases never run, so nothing is ever reported to it. */
    private static final PolicyRun.Host NO_HOST = new PolicyRun.Host() {
        @Override
        public void policiesPassed(PolicyRun run) {
        }

        @Override
        public void policyAnswered(PolicyRun run, LocalResponse response, String policy) {
        }

        @Override
        public void policyFailed(PolicyRun run, Throwable cause, String policy) {
        }
    };

    /** A request on its way through its route's policies: what the outcome needs to go on. */
    private static final class Waiting implements PolicyRun.Host, Origin {
        private final RequestSide side;
        private final Snapshot snapshot;
        private final HttpRequest request;
        private final Route route;
        private final RequestTarget target;
        private final String routingHost;
        private final String clientHost;
        private final InetAddress client;
        private final boolean body;
        /** When the request was admitted: its span starts then, so time spent in the policies is in it. */
        private final long admittedNanos = System.nanoTime();

        Waiting(RequestSide side, Snapshot snapshot, HttpRequest request, Route route, RequestTarget target,
                String routingHost, String clientHost, InetAddress client, boolean body) {
            this.side = side;
            this.snapshot = snapshot;
            this.request = request;
            this.route = route;
            this.target = target;
            this.routingHost = routingHost;
            this.clientHost = clientHost;
            this.client = client;
            this.body = body;
        }

        @Override
        public EventExecutor loop() {
            return side.clientChannel().eventLoop();
        }

        @Override
        public UpstreamPool pool() {
            return side.runtime().pool(side.clientChannel().eventLoop());
        }

        @Override
        public UpstreamGroup group() {
            return route.upstream();
        }

        @Override
        public String target(String path, String query) {
            return route.upstreamTarget(path, query);
        }

        @Override
        public String authority() {
            return routingHost != null ? routingHost : route.config().upstream().authority(); // as forward() does
        }

        @Override
        public String forwardedHost() {
            return clientHost;
        }

        @Override
        public long responseTimeoutMillis() {
            var perTry = route.upstream().config().retry().perTryTimeout();
            return perTry != null ? perTry.toMillis() : snapshot.config.timeouts().response().toMillis();
        }

        @Override
        public void policiesPassed(PolicyRun run) {
            side.hold(null);
            forward(side, snapshot, request, route, run.path(), target.query(), routingHost, clientHost, client, run,
                    admittedNanos);
        }

        @Override
        public void policyAnswered(PolicyRun run, LocalResponse response, String policy) {
            side.hold(null);
            FullHttpResponse r = run.takeAnswer(); // a cache hit: the stored body, not a copy
            try {
                r = r != null ? r : toResponse(response);
            } catch (IllegalArgumentException e) {
                policyFailed(run, e, policy);
                return;
            }
            answer(side, snapshot, request, r, run, body || !HttpUtil.isKeepAlive(request), policy, route,
                    client.getHostAddress(), admittedNanos);
        }

        @Override
        public void policyFailed(PolicyRun run, Throwable cause, String policy) {
            side.hold(null);
            boolean timeout = cause instanceof TimeoutException;
            LOG.warn("policy {} on route {} failed for {} {}: {}", policy, route.config().path(),
                    request.method(), ExchangeLog.printableTarget(request.uri()),
                    timeout ? cause.getMessage() : String.valueOf(cause));
            HttpResponseStatus status = timeout ? HttpResponseStatus.GATEWAY_TIMEOUT
                    : HttpResponseStatus.INTERNAL_SERVER_ERROR;
            FullHttpResponse r = ErrorResponses.of(status, timeout ? "a policy did not decide in time"
                    : "a policy failed", true);
            answer(side, snapshot, request, r, run, body || !HttpUtil.isKeepAlive(request), policy, route,
                    client.getHostAddress(), admittedNanos);
        }
    }
}
