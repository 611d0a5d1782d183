package dev.portico.proxy;

import dev.portico.balance.Endpoint;
import dev.portico.proxy.Attempts.Cause;
import dev.portico.proxy.ProxyFailure.Kind;
import dev.portico.route.Route;
import dev.portico.upstream.UpstreamConnection;
import dev.portico.upstream.UpstreamListener;
import dev.portico.upstream.UpstreamPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response, from the request head to the response's last byte.
 * Runs entirely on the client channel's event loop (the upstream connection shares it), so no field needs a lock.
 */
public final class ProxyExchange implements UpstreamListener, UpstreamPool.Callback, ChannelFutureListener {
    /** Where the exchange stands. */
    enum State { CONNECTING, FORWARDING, RESPONDING, DONE }

    private final ExchangeHost host;
    private final UpstreamPool pool;
    private final Route route;
    private final ExchangeLog log;
    private final HttpRequest clientRequest;
    private final HttpRequest upstreamRequest;
    private final boolean clientKeepAlive;
    private final long responseTimeoutMillis;
    /** Request body parts that arrived before the upstream connection was ready; owned until written. */
    private ArrayDeque<HttpContent> pending;

    private State state = State.CONNECTING;
    private UpstreamConnection conn;
    private long requestBodyBytes;
    private long responseBodyBytes;
    private boolean requestComplete;
    private boolean bodySent;
    private boolean skippingInformational;
    private boolean responseKeepAlive;
    private boolean upstreamKeepAlive;
    private int status;
    private final Attempts attempts;
    /** Whether the next try's connection gets the kept body instead of {@code pending}. */
    private boolean replayOnAcquire;
    /** Whether the free retry after a pooled connection went stale was used. */
    private boolean staleRetried;
    private ScheduledFuture<?> retryTimer;
    /** {@code timeouts.tunnel_idle} when the request asks for a WebSocket upgrade; 0 otherwise. */
    private long tunnelIdleMillis;

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
        this.host = host;
        this.pool = pool;
        this.route = route;
        this.clientRequest = clientRequest;
        this.upstreamRequest = upstreamRequest;
        var perTry = route.upstream().config().retry().perTryTimeout();
        this.responseTimeoutMillis = perTry != null ? perTry.toMillis() : responseTimeoutMillis;
        this.log = log;
        this.attempts = new Attempts(route.upstream(), clientRequest.method(), upstreamRequest.headers(),
                log.clientAddress(), clientRequest.uri());
        this.clientKeepAlive = clientKeepAlive;
    }

    /** Picks an endpoint and asks the pool for a connection to it; the request goes out once it is ready. */
    public void start() {
        nextTry();
    }

    private void nextTry() {
        retryTimer = null;
        if (state == State.DONE) {
            return;
        }
        Endpoint e = attempts.next();
        if (e == null) {
            fail(new ProxyFailure(Kind.NO_HEALTHY_ENDPOINT, "upstream " + route.upstream().name()
                    + " has no endpoint"));
            return;
        }
        state = State.CONNECTING;
        bodySent = false;
        var u = route.upstream().config();
        pool.acquire(e, e.tls(), u.maxConnections(), u.maxPending(), this, this);
    }

    /**
     * Marks the request as a WebSocket upgrade (see {@link WebSocketUpgrade}): a 101 from the backend turns the
     * two connections into a {@link Tunnel}. Call before {@link #start}.
     *
     * @param tunnelIdle {@code timeouts.tunnel_idle} in milliseconds
     */
    public void upgrade(long tunnelIdle) {
        this.tunnelIdleMillis = tunnelIdle;
    }

    /** @return whether this exchange waits for the backend's answer to an upgrade: no more client bytes until then */
    public boolean awaitsUpgrade() {
        return tunnelIdleMillis > 0 && state != State.DONE;
    }

    /** @return whether the whole request body has been received from the client */
    public boolean requestComplete() {
        return requestComplete;
    }

    /** @return whether the exchange can take more request body now */
    public boolean wantsRequestBody() {
        // Also while responding: a backend may answer early and keep reading the body (echo, transforms).
        return (state == State.FORWARDING || state == State.RESPONDING) && !requestComplete && conn != null
                && conn.channel().isWritable();
    }

    /**
     * A part of the request body from the client; this exchange owns it from here.
     *
     * @param content the body part
     */
    public void onRequestContent(HttpContent content) {
        if (state == State.DONE) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            // A malformed chunk or trailer: never let the backend see the body end here.
            content.release();
            fail(new ProxyFailure(Kind.BAD_REQUEST, "malformed request body"));
            return;
        }
        requestBodyBytes += content.content().readableBytes();
        long limit = route.maxRequestBody();
        if (limit > 0 && requestBodyBytes > limit) {
            content.release();
            fail(new ProxyFailure(Kind.REQUEST_TOO_LARGE, "request body over " + limit + " bytes"));
            return;
        }
        if (content instanceof LastHttpContent) {
            requestComplete = true;
            HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
            if (!trailers.isEmpty()) {
                trailers.clear(); // request trailers are not forwarded (as nginx does): no backend relies on them
            }
        }
        if (state != State.RESPONDING) {
            attempts.keep(content); // a retry can replay it
        }
        if (conn == null) {
            if (pending == null) {
                pending = new ArrayDeque<>(4);
            }
            pending.add(content);
            return;
        }
        Channel ch = conn.channel();
        writeBody(ch, content);
        if (requestComplete) {
            ch.flush();
        }
        if (!ch.isWritable()) {
            host.updateReading(); // stop reading the client now, not after this read loop
        }
    }

    /** The client's read is over: send what it brought upstream in one flush. */
    public void onClientReadComplete() {
        if (conn != null && state != State.DONE) {
            conn.channel().flush();
        }
    }

    private void writeBody(Channel ch, HttpContent content) {
        bodySent |= content.content().isReadable();
        if (content instanceof LastHttpContent) {
            ch.write(content).addListener(this);
        } else {
            ch.write(content, ch.voidPromise());
        }
    }

    @Override
    public void acquired(UpstreamConnection connection) {
        if (state == State.DONE) {
            connection.discard();
            return;
        }
        conn = connection;
        state = State.FORWARDING;
        Channel ch = connection.channel();
        ch.write(upstreamRequest, ch.voidPromise());
        if (conn != connection || state != State.FORWARDING) {
            return; // the write failed at once and the exchange moved on (a retry, or a failure)
        }
        HttpContent c;
        if (replayOnAcquire) {
            releasePending(); // every part of it is kept too
            attempts.replay(ch, this);
            bodySent = true;
        }
        while (pending != null && (c = pending.poll()) != null) {
            writeBody(ch, c);
        }
        ch.flush();
        host.updateReading();
    }

    @Override
    public void failed(Throwable cause) {
        if (state == State.DONE) {
            return; // the client left while the connect was under way
        }
        if (cause instanceof UpstreamPool.NoConnectionAvailable) {
            fail(new ProxyFailure(Kind.NO_HEALTHY_ENDPOINT, cause.getMessage()));
            return;
        }
        attempts.failed();
        retryOrFail(Cause.CONNECT_FAILURE, ProxyFailure.connectFailure(cause));
    }

    /** The last body part was written upstream (or failed to be). */
    @Override
    public void operationComplete(ChannelFuture f) {
        if (f.isSuccess() && state == State.FORWARDING && conn != null && f.channel() == conn.channel()) {
            // The whole request is out: timeouts.response starts now.
            conn.startResponseDeadline(TimeUnit.MILLISECONDS.toNanos(responseTimeoutMillis));
        }
    }

    @Override
    public void onUpstreamResponseTimeout() {
        if (state == State.FORWARDING) {
            attempts.failed();
            retryOrFail(Cause.TIMEOUT, new ProxyFailure(Kind.RESPONSE_TIMEOUT, "no response within "
                    + responseTimeoutMillis + "ms"));
        }
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
                if (tunnelIdleMillis > 0 && requestComplete && WebSocketUpgrade.accepted(response)) {
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
        cancelResponseTimer();
        boolean countsAsFailure = st.code() >= 500 && route.upstream().config().passive().on5xx();
        if (attempts.retriesStatus(st.code()) && attempts.mayRetry(Cause.STATUS, bodySent)) {
            attempts.succeeded(countsAsFailure);
            retry("upstream answered " + st.code());
            return;
        }
        attempts.succeeded(countsAsFailure);
        attempts.dropKept(); // the response goes to the client now: no retry can follow
        state = State.RESPONDING;
        status = st.code();
        upstreamKeepAlive = HttpUtil.isKeepAlive(response);
        boolean bodiless = clientRequest.method().equals(HttpMethod.HEAD) || status == 204 || status == 304;
        responseKeepAlive = clientKeepAlive && requestComplete && !host.closeAfterResponse()
                && HeaderRewriter.framingAllowsKeepAlive(response, clientRequest.protocolVersion(), bodiless);
        if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                && !HttpUtil.isTransferEncodingChunked(response) && !bodiless) {
            upstreamKeepAlive = false;
        }
        Channel client = host.clientChannel();
        HttpResponse toClient = HeaderRewriter.clientResponse(response, clientRequest.protocolVersion(), bodiless,
                responseKeepAlive);
        log.responseHead(toClient);
        client.write(toClient, client.voidPromise());
    }

    /** The backend accepted the WebSocket upgrade: the exchange ends, and a tunnel takes both connections. */
    private void switchProtocols(HttpResponse response) {
        cancelResponseTimer();
        state = State.DONE;
        UpstreamConnection c = conn;
        conn = null;
        attempts.succeeded(false);
        attempts.finish();
        log.access(101, requestBodyBytes, 0, attempts.last(), attempts.count());
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
        responseBodyBytes += content.content().readableBytes();
        Channel client = host.clientChannel();
        if (!(content instanceof LastHttpContent)) {
            client.write(content, client.voidPromise()); // flushed when this read from the backend is over
            if (!client.isWritable()) {
                conn.channel().config().setAutoRead(false); // the client is behind: stop reading the backend now
            }
            return;
        }
        state = State.DONE;
        attempts.finish();
        UpstreamConnection c = conn;
        conn = null;
        if (upstreamKeepAlive && requestComplete) {
            c.release();
        } else {
            c.discard();
        }
        boolean keepAlive = responseKeepAlive && requestComplete && !host.closeAfterResponse();
        ChannelFuture last = keepAlive ? client.writeAndFlush(content, client.voidPromise())
                : client.writeAndFlush(content);
        log.access(status, requestBodyBytes, responseBodyBytes, attempts.last(), attempts.count());
        host.exchangeDone(this, keepAlive ? null : last, keepAlive);
    }

    @Override
    public void onUpstreamReadComplete() {
        if (state == State.RESPONDING) {
            host.clientChannel().flush(); // the head, and every body part this read brought, in one flush
        }
        if (state != State.DONE && conn != null && !host.clientChannel().isWritable()) {
            conn.channel().config().setAutoRead(false);
        }
    }

    /** The client can take more response: read more from the backend. */
    public void onClientWritable() {
        if (state != State.DONE && conn != null) {
            conn.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void onUpstreamWritable() {
        host.updateReading();
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (state == State.DONE || state == State.CONNECTING) {
            return; // CONNECTING: a connection that failed to open; the pool reports that through failed()
        }
        String why = cause == null ? "upstream closed the connection" : "upstream connection failed: " + cause;
        if (state == State.FORWARDING && staleConnection()) {
            // Not the backend's failure: a keep-alive race. One free retry on a new connection, at once.
            staleRetried = true;
            boolean race = conn.reused();
            attempts.freeRetry();
            log.retrying(attempts.last());
            prepareRetry();
            if (!race) {
                attempts.failed(); // a backend going down: passive health counts it; another endpoint next
                nextTry();
                return;
            }
            // A keep-alive race says nothing about the endpoint: the same one, on a new connection.
            state = State.CONNECTING;
            bodySent = false;
            var u = route.upstream().config();
            Endpoint same = attempts.again();
            pool.acquire(same, same.tls(), u.maxConnections(), u.maxPending(), this, this);
            return;
        }
        if (state == State.FORWARDING && !skippingInformational) {
            attempts.failed();
            retryOrFail(Cause.RESET, new ProxyFailure(Kind.UPSTREAM_RESET, why));
            return;
        }
        fail(new ProxyFailure(Kind.UPSTREAM_RESET, why));
    }

    /**
     * The backend closed the connection before any byte of the response: a pooled connection it dropped just as
     * it was borrowed (a keep-alive race), or a backend going down (a restart). The request can be sent again
     * once, at once and outside the budget, because none of its body is lost and it is idempotent: a restart
     * must not cost a request even when many in flight are cut at the same moment. (The pool never lends a
     * connection it knows closed, so a non-idempotent request that is written may have reached the backend.)
     */
    private boolean staleConnection() {
        return conn != null && !staleRetried && !skippingInformational
                && (!bodySent || attempts.bodyKept()) && isIdempotent(clientRequest.method());
    }

    /** The current try failed for {@code cause}: try again if the retry policy allows, else fail the exchange. */
    private void retryOrFail(Cause cause, ProxyFailure failure) {
        if (attempts.mayRetry(cause, bodySent)) {
            retry(failure.getMessage());
        } else {
            fail(failure);
        }
    }

    /** Ends the current try and starts the next after the backoff. */
    private void retry(String why) {
        log.retry(attempts.last(), why, attempts.count());
        prepareRetry();
        long delay = attempts.backoffNanos();
        if (delay == 0) {
            nextTry();
        } else {
            retryTimer = host.clientChannel().eventLoop().schedule(this::nextTry, delay, TimeUnit.NANOSECONDS);
        }
    }

    /** Drops the current try's connection and readies the body for the next try. */
    private void prepareRetry() {
        cancelResponseTimer();
        if (conn != null) {
            conn.discard();
            conn = null;
        }
        state = State.CONNECTING;
        skippingInformational = false;
        attempts.endTry();
        if (attempts.bodyKept()) {
            replayOnAcquire = true;
        } else if (bodySent) {
            throw new IllegalStateException("retry without the body at hand"); // mayRetry forbids it
        } else if (requestComplete && !replayOnAcquire && (pending == null || pending.isEmpty()
                || !(pending.peekLast() instanceof LastHttpContent))) {
            // Nothing of the body was sent, but its end was: send the end again.
            if (pending == null) {
                pending = new ArrayDeque<>(1);
            }
            pending.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    private void releasePending() {
        HttpContent c;
        while (pending != null && (c = pending.poll()) != null) {
            c.release();
        }
    }

    @Override
    public void onUpstreamIdle() {
        onIdle();
    }

    /** Nothing moved on the client connection for {@code timeouts.idle}. */
    public void onClientIdle() {
        onIdle();
    }

    /** One side went quiet for {@code timeouts.idle}: blame the side that holds the exchange up. */
    private void onIdle() {
        if (state == State.DONE || state == State.CONNECTING) {
            return; // connect has its own timeout
        }
        boolean backendBlocks = conn != null && !conn.channel().isWritable();
        boolean clientBlocks = !host.clientChannel().isWritable();
        if (!requestComplete && backendBlocks) {
            fail(new ProxyFailure(Kind.RESPONSE_TIMEOUT, "upstream stopped reading the request body"));
        } else if (!requestComplete && state == State.FORWARDING) {
            fail(new ProxyFailure(Kind.REQUEST_TIMEOUT, "client sent no body data for too long"));
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
        boolean responseStarted = state == State.RESPONDING;
        state = State.DONE;
        cancelResponseTimer();
        if (retryTimer != null) {
            retryTimer.cancel(false);
            retryTimer = null;
        }
        attempts.finish();
        releasePending();
        if (conn != null) {
            conn.discard();
            conn = null;
        }
        Kind kind = failure.kind();
        log.failed(failure, attempts.last());
        log.access(responseStarted ? status : kind.status() == null ? 0 : kind.status().code(), requestBodyBytes,
                responseBodyBytes, attempts.last(), attempts.count());
        host.exchangeFailed(this, failure, responseStarted);
    }

    private void cancelResponseTimer() {
        if (conn != null) {
            conn.clearResponseDeadline();
        }
    }

    static boolean isIdempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.PUT)
                || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.OPTIONS) || m.equals(HttpMethod.TRACE);
    }

}
