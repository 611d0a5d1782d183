package dev.portico.internal.proxy;

import dev.portico.config.UpstreamConfig;
import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.grpc.GrpcCall;
import dev.portico.internal.proxy.Attempts.Cause;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.route.Route;
import dev.portico.internal.upstream.ProxyHeader;
import dev.portico.internal.upstream.StreamRefused;
import dev.portico.internal.upstream.UpstreamConnection;
import dev.portico.internal.upstream.UpstreamListener;
import dev.portico.internal.upstream.UpstreamPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The request half of a {@link ProxyExchange}: its tries. Gets a connection for each try, writes the request head
 * and body to it (holding the body parts that arrive before it is ready), starts the response deadline once the
 * whole request is out, and when a try fails decides whether the request goes out again: the retry policy and its
 * backoff, the free retry after a connection cut before any response byte, and the body for the next try (replayed
 * from what {@link Attempts} kept, or just its end again). The response half, and how an exchange ends, is
 * {@link ProxyExchange}.
 *
 * <p>A superclass rather than a collaborator so that an exchange stays one object: the split allocates nothing more
 * per request. Its fields without an access modifier are shared with {@link ProxyExchange} alone.
 * Runs entirely on the client channel's event loop (the upstream connection shares it), so no field needs a lock.
 */
abstract class ExchangeTries implements UpstreamListener, UpstreamPool.Callback, ChannelFutureListener {
    /** Where the exchange stands. */
    enum State { CONNECTING, FORWARDING, RESPONDING, DONE }

    final ExchangeHost host;
    private final UpstreamPool pool;
    final Route route;
    final ExchangeLog log;
    final HttpRequest clientRequest;
    private final HttpRequest upstreamRequest;
    private final long responseTimeoutMillis;
    /** Request body parts that arrived before the upstream connection was ready; owned until written. */
    private ArrayDeque<HttpContent> pending;

    State state = State.CONNECTING;
    UpstreamConnection conn;
    long requestBodyBytes;
    boolean requestComplete;
    boolean bodySent;
    /** Whether the whole request, body end included, was written to this try's connection. */
    boolean requestWritten;
    boolean skippingInformational;
    final Attempts attempts;
    /** Whether the next try's connection gets the kept body instead of {@code pending}. */
    private boolean replayOnAcquire;
    /** Whether the free retry after a keep-alive race was used. */
    private boolean staleRetried;
    ScheduledFuture<?> retryTimer;
    /** Gives up the wait for a connection slot ({@code max_pending}) while the pool has this try queued. */
    private Runnable cancelWait;
    /** What each new backend connection opens with ({@code send_proxy_protocol}), or {@code null}. */
    private ProxyHeader proxyHeader;
    /** What gRPC changes in this exchange ({@code grpc-timeout}, gRPC-Web), or null for other requests. */
    GrpcCall grpc;
    /** This try's stream carries a WebSocket handshake as an extended CONNECT: no request body goes on it. */
    boolean extendedConnect;
    /** The HTTP/1.1 client's {@code Sec-WebSocket-Key} when its handshake went out as an extended CONNECT. */
    String clientKey;

    /**
     * @param host the client connection
     * @param pool the upstream pool of the client's event loop
     * @param route the matched route
     * @param log the exchange's access-log line, metrics and failure log
     * @param clientRequest the client's request head, validated (its headers now belong to the upstream head)
     * @param upstreamRequest the head to send upstream
     * @param responseTimeoutMillis {@code timeouts.response}, used when the upstream sets no
     *     {@code retry.per_try_timeout}
     */
    ExchangeTries(ExchangeHost host, UpstreamPool pool, Route route, ExchangeLog log, HttpRequest clientRequest,
                  HttpRequest upstreamRequest, long responseTimeoutMillis) {
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
    }

    /**
     * Each try gets a new connection that opens with {@code header}, and closes it afterwards: a connection that
     * names a client is never shared with another ({@code send_proxy_protocol}). Call before {@link #start}.
     *
     * @param header the PROXY protocol header
     */
    public void proxyHeader(ProxyHeader header) {
        proxyHeader = header;
    }

    /**
     * Makes the exchange a gRPC call: its {@code grpc-timeout} caps each try's response timeout and is sent on as
     * what is left of it, and a gRPC-Web request is translated. Call before {@link #start}.
     *
     * @param call the call, which has prepared the upstream head
     */
    public void grpc(GrpcCall call) {
        grpc = call;
    }

    /** @return the gRPC side of this exchange, or {@code null}: Portico's own answers to it are gRPC answers */
    public GrpcCall grpc() {
        return grpc;
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
        if (grpc != null && grpc.expired()) {
            fail(new ProxyFailure(Kind.RESPONSE_TIMEOUT, "grpc-timeout elapsed before the try"));
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
        log.tryStarted(e, attempts.count());
        cancelWait = pool.acquire(e, e.tls(), u.maxConnections(), u.maxPending(), proxyHeader, this, this);
        if (cancelWait != null) {
            log.tryQueued();
        }
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
        if (grpc != null && (content = grpc.requestPart(content)) == null) {
            fail(new ProxyFailure(Kind.BAD_REQUEST, "grpc-web-text body is not base64"));
            return;
        }
        if (content instanceof LastHttpContent) {
            requestComplete = true;
            HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
            if (!trailers.isEmpty()) {
                if (route.upstream().config().protocol() == UpstreamConfig.Protocol.HTTP1) {
                    trailers.clear(); // not to HTTP/1.1 backends (as nginx does): none relies on them
                } else {
                    RequestTrailers.sanitize(trailers); // an HTTP/2 backend gets them as a trailing HEADERS frame
                }
            }
        }
        if (state != State.RESPONDING) {
            attempts.keep(content); // a retry can replay it
            if (conn == null && replayOnAcquire && !attempts.bodyKept()) {
                // A retry waits to replay the body, which just outgrew retry.buffer: it can no longer be sent
                // whole, and a part of it must never reach a backend as if it were all.
                content.release();
                fail(new ProxyFailure(Kind.UPSTREAM_RESET, "request body outgrew retry.buffer before the retry"));
                return;
            }
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
        if (extendedConnect) {
            content.release(); // a WebSocket handshake has no body: the stream's DATA is the tunnel's
            return;
        }
        bodySent |= content.content().isReadable();
        if (content instanceof LastHttpContent last && !conn.isHttp2() && !last.trailingHeaders().isEmpty()) {
            last.trailingHeaders().clear(); // an auto upstream that chose HTTP/1.1: its backends get no trailers
        }
        if (content instanceof LastHttpContent) {
            ch.write(content).addListener(this);
        } else {
            ch.write(content, ch.voidPromise());
        }
    }

    @Override
    public void acquired(UpstreamConnection connection) {
        cancelWait = null;
        if (state == State.DONE) {
            connection.discard();
            return;
        }
        conn = connection;
        state = State.FORWARDING;
        Channel ch = connection.channel();
        if (upstreamRequest instanceof HeaderRewriter.UpstreamHead u && u.acceptsTrailers()) {
            // TE is hop-by-hop, but "trailers" is the one value HTTP/2 carries on (RFC 9113 section 8.2.2).
            if (connection.isHttp2()) {
                upstreamRequest.headers().set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
            } else {
                upstreamRequest.headers().remove(HttpHeaderNames.TE);
            }
        }
        log.tryConnected(connection, upstreamRequest.headers());
        if (connection.isHttp2() && awaitsUpgrade()) {
            extendedConnect(connection);
            return;
        }
        if (grpc != null) {
            grpc.beforeTry(upstreamRequest.headers());
        }
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

    /**
     * A WebSocket upgrade whose try got an HTTP/2 stream: an extended CONNECT if the backend enabled it, else a 502
     * with nothing sent (a plain GET would be answered as one).
     */
    private void extendedConnect(UpstreamConnection connection) {
        releasePending(); // the handshake's empty body end: nothing of it goes on the stream
        replayOnAcquire = false;
        if (!connection.acceptsExtendedConnect()) {
            fail(new ProxyFailure(Kind.UPSTREAM_RESET, "upstream " + route.upstream().name() + " ("
                    + connection.endpoint().text() + ") does not accept WebSocket over HTTP/2"
                    + " (SETTINGS_ENABLE_CONNECT_PROTOCOL)"));
            return;
        }
        extendedConnect = true;
        // An HTTP/1.1 client made its own handshake, which Portico answers for the backend (see ExtendedConnect).
        clientKey = clientRequest.protocolVersion().equals(HttpVersion.HTTP_1_1)
                ? upstreamRequest.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY) : null;
        Channel ch = connection.channel();
        ch.writeAndFlush(ExtendedConnect.frame(upstreamRequest, ch)).addListener(this);
        host.updateReading();
    }

    /** @return whether the request is a WebSocket upgrade waiting for the backend's answer */
    abstract boolean awaitsUpgrade();

    @Override
    public void failed(Throwable cause) {
        cancelWait = null;
        if (state == State.DONE) {
            return; // the client left while the connect was under way
        }
        if (cause instanceof UpstreamPool.NoConnectionAvailable) {
            fail(new ProxyFailure(Kind.NO_HEALTHY_ENDPOINT, cause.getMessage()));
            return;
        }
        if (cause instanceof StreamRefused) {
            // An HTTP/2 connection went away before this try's stream opened: not the endpoint failing.
            retryOrFail(Cause.CONNECT_FAILURE, new ProxyFailure(Kind.CONNECT_REFUSED, cause.getMessage()));
            return;
        }
        ProxyFailure failure = ProxyFailure.connectFailure(cause);
        attempts.failed(failure.getMessage());
        retryOrFail(Cause.CONNECT_FAILURE, failure);
    }

    /** The last body part was written upstream (or failed to be). */
    @Override
    public void operationComplete(ChannelFuture f) {
        if (!f.isSuccess() && extendedConnect && conn != null && f.channel() == conn.channel()
                && state == State.FORWARDING) {
            onUpstreamClosed(f.cause()); // the CONNECT did not leave: as a stream that closed before its answer
            return;
        }
        if (f.isSuccess() && state == State.FORWARDING && conn != null && f.channel() == conn.channel()) {
            // The whole request is out: timeouts.response starts now.
            requestWritten = true;
            long nanos = TimeUnit.MILLISECONDS.toNanos(responseTimeoutMillis);
            conn.startResponseDeadline(grpc == null ? nanos : grpc.capTimeout(nanos));
        }
    }

    @Override
    public void onUpstreamResponseTimeout() {
        if (state == State.FORWARDING) {
            attempts.failed("no response within " + responseTimeoutMillis + "ms");
            retryOrFail(Cause.TIMEOUT, new ProxyFailure(Kind.RESPONSE_TIMEOUT, "no response within "
                    + responseTimeoutMillis + "ms"));
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
        if (cause instanceof StreamRefused && state == State.FORWARDING && (!bodySent || attempts.bodyKept())) {
            // An HTTP/2 backend did not process the stream: like a connect failure, nothing reached it. Nor is it
            // the endpoint failing (it is draining a connection, or at its stream limit): no passive ejection.
            retryOrFail(Cause.CONNECT_FAILURE, new ProxyFailure(Kind.CONNECT_REFUSED, cause.getMessage()));
            return;
        }
        if (state == State.FORWARDING && keepAliveRace()) {
            // Not the backend's failure: one free retry on a new connection to the same endpoint, at once.
            staleRetried = true;
            attempts.freeRetry();
            log.retrying(attempts.last());
            prepareRetry();
            state = State.CONNECTING;
            bodySent = false;
            var u = route.upstream().config();
            Endpoint same = attempts.again();
            log.tryStarted(same, attempts.count());
            cancelWait = pool.acquire(same, same.tls(), u.maxConnections(), u.maxPending(), proxyHeader, this,
                    this);
            if (cancelWait != null) {
                log.tryQueued();
            }
            return;
        }
        if (state == State.FORWARDING && !skippingInformational) {
            attempts.failed(why);
            retryOrFail(Cause.RESET, new ProxyFailure(Kind.UPSTREAM_RESET, why));
            return;
        }
        fail(new ProxyFailure(Kind.UPSTREAM_RESET, why));
    }

    /**
     * The backend closed a pooled connection before any byte of the response: most likely it dropped the idle
     * connection just as it was borrowed (a keep-alive race), which says nothing about the endpoint. The request
     * can be sent again once, at once and outside the budget and {@code attempts}, because none of its body is lost
     * and it is idempotent. A fresh connection cut the same way is a backend failing (a restart, an outage): that
     * is a reset like any other, counted against {@code attempts} and the budget, so that an outage is not met with
     * twice the load. (The pool never lends a connection it knows closed, so a non-idempotent request that is
     * written may have reached the backend.)
     */
    private boolean keepAliveRace() {
        return conn != null && conn.reused() && !staleRetried && !skippingInformational
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
    void retry(String why) {
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
        requestWritten = false;
        extendedConnect = false;
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

    /** The exchange is over: leave the pool's queue (its place among max_pending goes to another request). */
    void abandon() {
        if (cancelWait != null) {
            cancelWait.run();
            cancelWait = null;
        }
        releasePending();
    }

    private void releasePending() {
        HttpContent c;
        while (pending != null && (c = pending.poll()) != null) {
            c.release();
        }
    }

    /**
     * Ends the exchange with a failure.
     *
     * @param failure what went wrong
     */
    abstract void fail(ProxyFailure failure);

    void cancelResponseTimer() {
        if (conn != null) {
            conn.clearResponseDeadline();
        }
    }

    static boolean isIdempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.PUT)
                || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.OPTIONS) || m.equals(HttpMethod.TRACE);
    }
}
