package dev.portico.internal.proxy;

import dev.portico.internal.grpc.GrpcCall;
import dev.portico.internal.policy.BodyTransform;
import dev.portico.internal.policy.BodyTransforms;
import dev.portico.internal.policy.PolicyRun;
import dev.portico.internal.proxy.Attempts.Cause;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.route.Route;
import dev.portico.internal.upstream.UpstreamConnection;
import dev.portico.internal.upstream.UpstreamPool;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * One request and its response, from the request head to the response's last byte.
 * Runs entirely on the client channel's event loop (the upstream connection shares it), so no field needs a lock.
 * The request half (each try's connection, the request body, retries) is {@link ExchangeTries}; this class relays
 * the response and ends the exchange.
 */
public final class ProxyExchange extends ExchangeTries {
    private final boolean clientKeepAlive;
    /** The response body bytes whose writes to the client completed. */
    private long sentBytes;
    private boolean responseKeepAlive;
    private boolean upstreamKeepAlive;
    private int status;
    /** The route's policies that ran on the request, for the response phases; null when the route has none. */
    private PolicyRun policies;
    /** A policy's whole response sent instead of the backend's body (a cache's stored body), until sent. */
    private ByteBuf replacement;
    private boolean replacementBodiless;
    /** The client went away while a policy still wants the body (a cache fill others wait for). */
    private boolean detached;
    /** The response phases' transform of the body (compression), or null: applied part by part as it streams. */
    private BodyTransform body;
    /** A gRPC trailers-only head, written with the body's (empty) end as one message: one HEADERS frame. */
    private HttpResponse heldHead;
    /** {@code timeouts.tunnel_idle} when the request asks for a WebSocket upgrade; 0 otherwise. */
    private long tunnelIdleMillis;
    /** The key of a handshake Portico made (HTTP/2 client), or null. */
    private String handshakeKey;

    /**
     * @param host the client connection
     * @param pool the upstream pool of the client's event loop
     * @param route the matched route
     * @param log the exchange's access-log line, metrics and failure log
     * @param clientRequest the client's request head, validated (its headers now belong to the upstream head)
     * @param clientKeepAlive whether the client asked to keep its connection open
     * @param upstreamRequest the head to send upstream
     * @param responseTimeoutMillis {@code timeouts.response}, used when the upstream sets no
     *     {@code retry.per_try_timeout}
     */
    public ProxyExchange(ExchangeHost host, UpstreamPool pool, Route route, ExchangeLog log,
                         HttpRequest clientRequest, boolean clientKeepAlive, HttpRequest upstreamRequest,
                         long responseTimeoutMillis) {
        super(host, pool, route, log, clientRequest, upstreamRequest, responseTimeoutMillis);
        this.clientKeepAlive = clientKeepAlive;
    }

    /**
     * Marks the request as a WebSocket upgrade (see {@link WebSocketUpgrade}): a 101 from the backend, or an HTTP/2
     * backend's 200 to the extended CONNECT it gets instead ({@link ExtendedConnect}), turns the two connections into
     * a {@link Tunnel}. Call before {@link #start}.
     *
     * @param tunnelIdle {@code timeouts.tunnel_idle} in milliseconds
     * @param key the {@code Sec-WebSocket-Key} Portico made for an HTTP/2 client's extended CONNECT, which the
     *     backend's 101 must answer (RFC 6455 section 4.1); {@code null} for a client's own handshake
     */
    public void upgrade(long tunnelIdle, String key) {
        this.tunnelIdleMillis = tunnelIdle;
        this.handshakeKey = key;
    }

    /**
     * Gives the exchange the policies that ran on its request: their response phases run on the response head.
     * Call before {@link #start}.
     *
     * @param run the run
     */
    public void policies(PolicyRun run) {
        this.policies = run;
    }

    /** @return the policies that ran on the request, or {@code null}: an error answer gets their response phases */
    public PolicyRun policies() {
        return policies;
    }

    /** @return whether this exchange waits for the backend's answer to an upgrade: no more client bytes until then */
    public boolean awaitsUpgrade() {
        return tunnelIdleMillis > 0 && state != State.DONE;
    }

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        if (state == State.DONE) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            fail(new ProxyFailure(Kind.UPSTREAM_RESET, "malformed upstream response: " + msg.decoderResult().cause()));
            return;
        }
        if (msg instanceof HttpResponse) {
            onResponseHead((HttpResponse) msg);
        }
        if (msg instanceof HttpContent) {
            onResponseContent((HttpContent) msg);
        }
    }

    private void onResponseHead(HttpResponse response) {
        HttpResponseStatus st = response.status();
        if (st.codeClass() == HttpStatusClass.INFORMATIONAL) {
            if (st.code() == 101) {
                if (tunnelIdleMillis > 0 && requestComplete && WebSocketUpgrade.accepted(response, handshakeKey)) {
                    switchProtocols(response);
                } else {
                    fail(new ProxyFailure(Kind.UPSTREAM_RESET, "upstream switched protocols without an upgrade"));
                }
                return;
            }
            // 100 Continue and other interim responses: Portico answered the client's Expect itself.
            skippingInformational = true;
            return;
        }
        if (extendedConnect && st.codeClass() == HttpStatusClass.SUCCESS) { // an HTTP/2 backend's answer
            if (ExtendedConnect.opens(response) && requestComplete) {
                switchProtocols(ExtendedConnect.asSwitch(response, clientKey));
            } else {
                fail(new ProxyFailure(Kind.UPSTREAM_RESET, "upstream answered an extended CONNECT with " + st.code()));
            }
            return;
        }
        if (handshakeKey != null && st.codeClass() == HttpStatusClass.SUCCESS) { // RFC 8441: 2xx opens the tunnel
            fail(new ProxyFailure(Kind.UPSTREAM_RESET, "upstream answered a WebSocket handshake with " + st.code()));
            return;
        }
        cancelResponseTimer();
        boolean countsAsFailure = st.code() >= 500 && route.upstream().config().passive().on5xx();
        boolean grpcRetry = grpc != null && attempts.retriesGrpc(response.headers());
        if ((attempts.retriesStatus(st.code()) || grpcRetry) && attempts.mayRetry(Cause.STATUS, bodySent)) {
            attempts.succeeded(countsAsFailure);
            retry("upstream answered " + (grpcRetry ? "grpc-status " + response.headers().get("grpc-status")
                    : st.code()));
            return;
        }
        attempts.succeeded(countsAsFailure);
        attempts.dropKept(); // the response goes to the client now: no retry can follow
        state = State.RESPONDING;
        HttpResponse upstream = response;
        boolean head = clientRequest.method().equals(HttpMethod.HEAD);
        boolean upstreamBodiless = head || st.code() == 204 || st.code() == 304;
        FullHttpResponse replaced = policies == null ? null : policies.substitute(upstream, false);
        if (replaced != null) { // a cache answers with what it stored: the backend's body is dropped
            response = replaced;
            replacement = replaced.content();
        }
        status = response.status().code();
        upstreamKeepAlive = HttpUtil.isKeepAlive(upstream);
        boolean bodiless = head || status == 204 || status == 304;
        replacementBodiless = bodiless;
        responseKeepAlive = clientKeepAlive && requestComplete && !host.closeAfterResponse()
                && HeaderRewriter.framingAllowsKeepAlive(response, clientRequest.protocolVersion(), bodiless);
        if (!upstream.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                && !HttpUtil.isTransferEncodingChunked(upstream) && !upstreamBodiless) {
            upstreamKeepAlive = false;
        }
        HttpResponse toClient = HeaderRewriter.clientResponse(response, clientRequest.protocolVersion(), bodiless,
                responseKeepAlive);
        BodyTransform web = grpc == null || replaced != null ? null
                : grpc.response(toClient, clientRequest.protocolVersion(), host.clientChannel().alloc());
        if (policies != null) {
            body = policies.onStreamedResponse(toClient, false);
            log.cache(policies.cacheStatus());
        }
        if (web != null) {
            body = BodyTransforms.chain(web, body); // gRPC-Web's framing first, then a compression of it
        }
        log.responseHead(toClient);
        if (grpc != null && grpc.holdsHead(toClient)) {
            heldHead = toClient; // on HTTP/2 a head then an empty DATA frame would not be trailers-only
        } else {
            host.write(toClient);
        }
        if (!host.clientWritable()) {
            conn.channel().config().setAutoRead(false); // e.g. a stream whose send window is shut: no body read yet
        }
    }

    /** The backend accepted the WebSocket upgrade: the exchange ends, and a tunnel takes both connections. */
    private void switchProtocols(HttpResponse response) {
        cancelResponseTimer();
        state = State.DONE;
        UpstreamConnection c = conn;
        conn = null;
        attempts.succeeded(false);
        attempts.finish();
        // An HTTP/2 client's extended CONNECT (Portico's handshake) is answered 200, an upgrade 101.
        log.access(handshakeKey != null ? 200 : 101, requestBodyBytes, 0, attempts.last(), attempts.count());
        Tunnel.open(host, this, c, response, tunnelIdleMillis);
    }

    private void onResponseContent(HttpContent content) {
        if (skippingInformational) {
            content.release();
            if (content instanceof LastHttpContent) {
                skippingInformational = false;
            }
            return;
        }
        if (state != State.RESPONDING) {
            content.release();
            return;
        }
        if (detached) {
            finishDetached(content);
            return;
        }
        if (replacement != null) {
            content.release();
            if (!(content instanceof LastHttpContent)) {
                return;
            }
            content = replacementBodiless ? LastHttpContent.EMPTY_LAST_CONTENT
                    : new DefaultLastHttpContent(replacement);
            if (replacementBodiless) {
                replacement.release();
            }
            replacement = null;
        } else if (policies != null) {
            policies.onResponseBody(content.content(), content instanceof LastHttpContent);
        }
        if (heldHead != null) {
            HttpResponse head = heldHead;
            heldHead = null;
            if (content instanceof LastHttpContent end) {
                content = GrpcCall.trailersOnly(head, end);
            } else {
                host.write(head);
            }
        }
        if (body != null) {
            BodyTransform t = body;
            body = content instanceof LastHttpContent ? null : t; // the last part finishes it
            if ((content = BodyTransforms.apply(t, content)) == null) {
                return; // the encoder holds all of it for now
            }
        }
        if (!(content instanceof LastHttpContent)) {
            send(content, false); // flushed when this read from the backend is over
            if (!host.clientWritable()) {
                conn.channel().config().setAutoRead(false); // the client is behind: stop reading the backend now
            }
            return;
        }
        responseEnded();
        boolean keepAlive = responseKeepAlive && requestComplete && !host.closeAfterResponse();
        ChannelFuture last = send(content, true);
        host.exchangeDone(this, keepAlive ? null : last, keepAlive);
    }

    /** The backend's response ended: the exchange is done, and its connection goes back to the pool or closes. */
    private void responseEnded() {
        state = State.DONE;
        attempts.finish();
        UpstreamConnection c = conn;
        conn = null;
        if (upstreamKeepAlive && requestComplete) {
            c.release();
        } else {
            c.discard();
        }
    }

    /** The body of a detached exchange goes to the policies' tap alone; the end returns the connection. */
    private void finishDetached(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        policies.onResponseBody(content.content(), last);
        content.release();
        if (last) {
            responseEnded();
            log.access(status, requestBodyBytes, sentBytes, attempts.last(), attempts.count());
        }
    }

    /**
     * Writes a response part, holding its bytes against the proxy-wide budget until they are on the wire. The
     * write completes in order on the client's event loop, which this exchange shares.
     */
    private ChannelFuture send(HttpContent content, boolean last) {
        int n = content.content().readableBytes();
        if (n == 0 && !last) {
            host.write(content);
            return null;
        }
        BufferBudget budget = host.buffered();
        budget.add(n);
        ChannelFuture f = host.send(content, last);
        f.addListener(w -> { // one listener per write: a second would cost the promise a list of them
            budget.release(n);
            if (w.isSuccess()) {
                sentBytes += n;
            }
            if (last) {
                // Logged once the end is on the wire (or lost): the line counts the bytes the client was sent.
                log.access(status, requestBodyBytes, sentBytes, attempts.last(), attempts.count());
            }
        });
        return f;
    }

    @Override
    public void onUpstreamReadComplete() {
        if (state == State.RESPONDING && !detached) {
            HttpContent encoded = body == null ? null : BodyTransforms.flush(body);
            if (encoded != null) {
                send(encoded, false); // what the encoder held of this read goes out too
            }
            host.flush(); // the head, and every body part this read brought, in one flush
        }
        if (state != State.DONE && conn != null && !detached && !host.clientWritable()) {
            conn.channel().config().setAutoRead(false);
        }
    }

    /** The client can take more response: read more from the backend. */
    public void onClientWritable() {
        if (state != State.DONE && conn != null && !detached && host.clientWritable()) {
            conn.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void onUpstreamIdle() {
        onIdle(true);
    }

    /** Nothing moved on the client connection for {@code timeouts.idle}. */
    public void onClientIdle() {
        onIdle(false);
    }

    /** One side went quiet for {@code timeouts.idle}: blame the side that holds the exchange up. */
    private void onIdle(boolean upstreamSide) {
        if (state == State.DONE || state == State.CONNECTING) {
            return; // connect has its own timeout
        }
        boolean backendBlocks = conn != null && !conn.channel().isWritable();
        boolean clientBlocks = !detached && !host.clientWritable();
        if (!requestComplete && backendBlocks) {
            fail(new ProxyFailure(Kind.RESPONSE_TIMEOUT, "upstream stopped reading the request body"));
        } else if (!requestComplete && state == State.FORWARDING) {
            fail(new ProxyFailure(Kind.REQUEST_TIMEOUT, "client sent no body data for too long"));
        } else if (state == State.FORWARDING && !requestWritten && upstreamSide) {
            // The client sent it all, but its end is still queued here: the backend stopped reading, and the
            // response timeout, which starts once the request is out, would never start. (The upstream side
            // decides: its timer counts the bytes the backend still takes as activity.)
            fail(new ProxyFailure(Kind.RESPONSE_TIMEOUT, "upstream stopped reading the end of the request body"));
        } else if (state == State.RESPONDING && clientBlocks) {
            fail(new ProxyFailure(Kind.CLIENT_ABORTED, "client stopped reading the response"));
        } else if (state == State.RESPONDING) {
            fail(new ProxyFailure(Kind.UPSTREAM_RESET, "upstream stalled mid-response"));
        }
        // FORWARDING with the whole request sent: waiting for the backend, the response timeout decides.
    }

    /** The client connection closed. */
    public void onClientClosed() {
        fail(new ProxyFailure(Kind.CLIENT_ABORTED, "client closed the connection"));
    }

    /**
     * Ends the exchange with a failure: the upstream connection is closed (never reused) and the client gets the
     * failure's status if no response began, else a close.
     *
     * @param failure what went wrong
     */
    public void fail(ProxyFailure failure) {
        if (state == State.DONE) {
            return;
        }
        if (!detached && failure.kind() == Kind.CLIENT_ABORTED && state == State.RESPONDING && conn != null
                && policies != null && policies.bodyStillWanted()) {
            // A cache fill that other requests wait for: read the backend's body to its end without the client.
            detached = true;
            conn.channel().config().setAutoRead(true);
            host.exchangeFailed(this, failure, true);
            return;
        }
        boolean responseStarted = state == State.RESPONDING;
        state = State.DONE;
        cancelResponseTimer();
        if (retryTimer != null) {
            retryTimer.cancel(false);
            retryTimer = null;
        }
        attempts.finish();
        abandon();
        if (policies != null) {
            policies.responseAborted();
        }
        if (replacement != null) {
            replacement.release();
            replacement = null;
        }
        if (body != null) {
            body.close();
            body = null;
        }
        if (conn != null) {
            conn.discard();
            conn = null;
        }
        Kind kind = failure.kind();
        log.failed(failure, attempts.last());
        log.access(responseStarted ? status : kind.status() == null ? 0 : kind.status().code(), requestBodyBytes,
                sentBytes, attempts.last(), attempts.count());
        host.exchangeFailed(this, failure, responseStarted);
    }
}
