package dev.portico.server;

import dev.portico.proxy.Correlation;
import dev.portico.proxy.ExchangeHost;
import dev.portico.proxy.ExchangeLog;
import dev.portico.proxy.HeaderRewriter;
import dev.portico.proxy.IdleTimer;
import dev.portico.proxy.ProxyExchange;
import dev.portico.proxy.ProxyFailure;
import dev.portico.proxy.ProxyFailure.Kind;
import dev.portico.proxy.WebSocketUpgrade;
import dev.portico.route.Route;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The last stage of a client connection: validates and routes each request, runs one {@link ProxyExchange} at a
 * time, and keeps pipelined requests that arrive early in a backlog (bounded: nothing more is read while it holds
 * anything) so responses go out in order.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements ExchangeHost {
    /** How long a connection that is closed after an error keeps reading (and dropping) what the client sends. */
    static final long LINGER_MILLIS = 2000;
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private final ProxyRuntime runtime;
    /** The TLS version and cipher, or {@code null} on a plain listener. */
    private final String tls;
    /** Set on a {@code redirect_https} listener: every request is answered with a redirect. */
    private final HttpsRedirect redirect;
    private final ArrayDeque<HttpObject> backlog = new ArrayDeque<>(4);
    private ChannelHandlerContext ctx;
    private ProxyExchange exchange;
    private ScheduledFuture<?> headTimer;
    private boolean bytesSinceHead;
    private long headStartNanos;
    private boolean closing;
    /** Set when the proxy or this connection's listener drains: the connection closes after its response. */
    private boolean draining;
    /** The request id of the current request and its field, for error responses; null when request ids are off. */
    private String requestId;
    private AsciiString requestIdName;
    private boolean inBacklog;
    private int requests;
    private String clientIp;

    FrontendHandler(ProxyRuntime runtime, String tls, HttpsRedirect redirect) {
        this.runtime = runtime;
        this.tls = tls;
        this.redirect = redirect;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
    }

    /** Taken out of the pipeline (the connection switched protocols): nothing of it may fire any more. */
    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        closing = true;
        cancelHeadTimer();
        releaseBacklog();
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        runtime.connectionOpened(context.channel());
        armHeadTimer();
    }

    /**
     * Called by the stage in front of the codec for every chunk of bytes: a request head may be starting. Only the
     * start time is noted; a timer is armed after the read if the head is still incomplete then, so back-to-back
     * requests on a busy connection schedule nothing.
     */
    void onBytes() {
        if ((exchange == null || exchange.requestComplete()) && !bytesSinceHead) {
            bytesSinceHead = true;
            headStartNanos = System.nanoTime();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (closing || !(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!backlog.isEmpty()) {
            backlog.add((HttpObject) msg);
            return;
        }
        dispatch((HttpObject) msg);
    }

    private void dispatch(HttpObject msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (exchange != null && !exchange.requestComplete()) {
            if (msg instanceof HttpContent) {
                exchange.onRequestContent((HttpContent) msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        } else if (exchange != null) {
            backlog.add(msg);
        } else if (msg instanceof HttpRequest) {
            onRequestHead((HttpRequest) msg);
        } else {
            // Body of a request that was answered without an exchange (e.g. 404): drop it, but a framing error
            // in it leaves no way to find the next request.
            boolean broken = msg.decoderResult().isFailure();
            ReferenceCountUtil.release(msg);
            if (broken) {
                closing = true;
                releaseBacklog();
                ctx.close();
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        if (exchange != null) {
            exchange.onClientReadComplete();
        }
        if (exchange == null && bytesSinceHead && headTimer == null && !closing) {
            armHeadTimer();
        }
        updateReading();
    }

    /**
     * Reads follow demand by switching AUTO_READ, which stays on through ordinary request/response cycles (so no
     * epoll registration change per request) and goes off only while a request body cannot move on (the backend
     * is not writable, or not yet connected) or a pipelined request waits in the backlog.
     */
    @Override
    public void updateReading() {
        if (inBacklog) {
            return; // the backlog loop is feeding the exchange; it updates reading when it is done
        }
        if (!backlog.isEmpty()) {
            drainBacklog();
        }
        ChannelConfig config = ctx.channel().config();
        boolean want = wantsRead();
        if (config.isAutoRead() != want) {
            config.setAutoRead(want);
        }
    }

    private boolean wantsRead() {
        if (!backlog.isEmpty()) {
            return false;
        }
        if (closing) {
            return ctx.channel().isActive(); // lingering: read and drop until the client closes
        }
        if (exchange != null && exchange.awaitsUpgrade()) {
            return false; // RFC 6455 section 4.1: the client sends nothing more before the 101
        }
        return exchange == null || exchange.requestComplete() || exchange.wantsRequestBody();
    }

    private void onRequestHead(HttpRequest request) {
        cancelHeadTimer();
        bytesSinceHead = false;
        requests++;
        requestId = null;
        Snapshot snapshot = runtime.snapshot(); // once: the exchange keeps this configuration to its end
        ProxyFailure invalid = RequestValidator.check(request, snapshot.config.limits().maxHeaders());
        if (invalid != null) {
            reject(invalid, request, true);
            return;
        }
        if (request.protocolVersion().minorVersion() > 1) {
            // RFC 9110 section 2.5: a higher minor version is handled as the highest one we implement.
            request.setProtocolVersion(HttpVersion.HTTP_1_1);
        }
        RequestTarget target;
        try {
            target = RequestTarget.parse(request.method(), request.uri());
        } catch (ProxyFailure f) {
            reject(f, request, true);
            return;
        }
        String clientHost = request.headers().get(HttpHeaderNames.HOST);
        String routingHost = target.authority() != null ? target.authority() : clientHost;
        boolean hasBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        if (redirect != null) {
            String location = redirect.location(routingHost, target.path() + target.query(),
                    ctx.channel().localAddress());
            ExchangeLog.rejected(runtime.accessLog(), request, clientIp(), 308, requestId, tls);
            boolean close = hasBody || !HttpUtil.isKeepAlive(request);
            respond(request, HttpResponseStatus.PERMANENT_REDIRECT, location, close, location);
            return;
        }
        Route route = snapshot.router.find(routingHost, target.routingPath());
        if (route == null) {
            reject(new ProxyFailure(Kind.NO_ROUTE, "no route for this host and path"), request, hasBody);
            return;
        }
        long limit = route.maxRequestBody();
        if (limit > 0 && HttpUtil.getContentLength(request, 0L) > limit) {
            reject(new ProxyFailure(Kind.REQUEST_TOO_LARGE, "request body over " + limit + " bytes"), request, true);
            return;
        }
        String expect = request.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null && !expect.trim().equalsIgnoreCase("100-continue")) {
            reject(new ProxyFailure(Kind.EXPECTATION_FAILED, "unsupported expectation"), request, true);
            return;
        }
        if (expect != null && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        String upstreamHost = routingHost != null ? routingHost : route.config().upstream().authority();
        String upstreamTarget = target.path().equals("*") ? "*" : route.upstreamTarget(target.path(), target.query());
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean webSocket = WebSocketUpgrade.requested(request);
        ExchangeLog log = snapshot.exchangeLog(this, runtime.accessLog(), request, clientIp(), route);
        requestId = log.requestId();
        requestIdName = snapshot.requestIdName;
        HttpRequest upstream = HeaderRewriter.upstreamRequest(request, upstreamTarget, upstreamHost,
                clientIp(), clientHost);
        if (tls != null) {
            upstream.headers().set(X_FORWARDED_PROTO, HTTPS);
        }
        exchange = new ProxyExchange(this, runtime.pool(ctx.channel().eventLoop()), route, log,
                request, keepAlive, upstream, snapshot.config.timeouts().response().toMillis());
        if (webSocket) {
            WebSocketUpgrade.forward(upstream);
            exchange.upgrade(snapshot.config.timeouts().tunnelIdle().toMillis());
        }
        exchange.start();
    }

    private void reject(ProxyFailure failure, HttpRequest request, boolean close) {
        runtime.logRejected(ctx.channel(), request, failure);
        runtime.metrics().rejected(failure.kind());
        requestIdName = runtime.snapshot().requestIdName;
        requestId = requestIdName == null ? null : Correlation.requestId(request.headers(), requestIdName);
        // A head cut short by the client's close is decoded as invalid after the close: nothing is sent then.
        int status = ctx.channel().isActive() ? failure.kind().status().code() : 0;
        ExchangeLog.rejected(runtime.accessLog(), request, clientIp(), status, requestId, tls);
        respond(request, failure.kind().status(), failure.getMessage(), close || !HttpUtil.isKeepAlive(request), null);
    }

    /** The error response, with the request id if there is one. */
    private FullHttpResponse errorResponse(HttpResponseStatus status, String detail, boolean keepAlive) {
        FullHttpResponse response = ErrorResponses.of(status, detail, keepAlive);
        if (requestId != null) {
            response.headers().set(requestIdName, requestId);
        }
        return response;
    }

    private void respond(HttpRequest request, HttpResponseStatus status, String detail, boolean close,
                         String location) {
        boolean keepAlive = !close && !closeAfterResponse();
        FullHttpResponse response = errorResponse(status, detail, keepAlive);
        if (location != null) {
            response.headers().set(HttpHeaderNames.LOCATION, location);
        }
        if (keepAlive && request != null && request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (request != null && request.method().name().equals("HEAD")) {
            response.content().clear();
        }
        ChannelFuture f = ctx.writeAndFlush(response);
        if (!keepAlive) {
            closeAfter(f);
        }
    }

    /**
     * Closes after the last write, half-closing first and reading (and dropping) what the client still sends for
     * a moment, so the client reads the response instead of a reset caused by its unread upload.
     */
    private void closeAfter(ChannelFuture lastWrite) {
        closing = true;
        releaseBacklog();
        cancelHeadTimer();
        Channel ch = ctx.channel();
        // A client that never reads the last write would keep the connection forever: close it in any case. The
        // task goes when the channel does, so closed channels are not held until it fires.
        ScheduledFuture<?> hardClose = ch.eventLoop().schedule(() -> {
            ch.close();
        }, runtime.config().timeouts().idle().toMillis() + LINGER_MILLIS, TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> hardClose.cancel(false));
        lastWrite.addListener(f -> {
            if (!f.isSuccess() || !(ch instanceof DuplexChannel) || !ch.isActive()) {
                ch.close();
                return;
            }
            // On TLS, close_notify first: without it a client cannot tell the end from a truncation.
            SslHandler ssl = tls == null ? null : ch.pipeline().get(SslHandler.class);
            ChannelFuture closeNotify = ssl == null ? ch.newSucceededFuture() : ssl.closeOutbound();
            closeNotify.addListener(n -> ((DuplexChannel) ch).shutdownOutput().addListener(s -> {
                ScheduledFuture<?> linger = ch.eventLoop().schedule(() -> {
                    ch.close();
                }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(c -> linger.cancel(false));
                ch.config().setAutoRead(true);
            }));
        });
    }

    @Override
    public Channel clientChannel() {
        return ctx.channel();
    }

    @Override
    public boolean closeAfterResponse() {
        int max = runtime.config().limits().maxRequestsPerConnection();
        return draining || runtime.draining() || (max > 0 && requests >= max);
    }

    @Override
    public void exchangeDone(ProxyExchange done, ChannelFuture lastWrite, boolean keepAlive) {
        if (done != exchange) {
            return;
        }
        exchange = null;
        if (!keepAlive) {
            closeAfter(lastWrite);
            return;
        }
        if (bytesSinceHead && headTimer == null) {
            armHeadTimer();
        }
        updateReading();
    }

    @Override
    public void exchangeFailed(ProxyExchange failed, ProxyFailure failure, boolean responseStarted) {
        if (failed != exchange) {
            return;
        }
        exchange = null;
        HttpResponseStatus status = failure.kind().status();
        if (responseStarted || status == null || !ctx.channel().isActive()) {
            closing = true;
            releaseBacklog();
            ctx.close();
            return;
        }
        // The backend's troubles stay in the log: a client learns the status, not the details.
        String detail = status.code() >= 500 ? "the upstream server failed" : failure.getMessage();
        closeAfter(ctx.writeAndFlush(errorResponse(status, detail, false)));
    }

    @Override
    public void switchProtocols(ProxyExchange switched, ChannelHandler tunnelEnd) {
        if (switched != exchange) {
            return;
        }
        exchange = null;
        closing = true;
        cancelHeadTimer();
        if (!backlog.isEmpty()) {
            // The client spoke before the 101: what it sent was decoded as HTTP and is lost to the tunnel.
            releaseBacklog();
            ctx.close();
            return;
        }
        ChannelPipeline p = ctx.pipeline();
        p.replace(this, "tunnel", tunnelEnd);
        p.remove(ByteWatcher.class);
        p.remove(IdleTimer.class);
        p.remove(FrontendCodec.class);
    }

    private void drainBacklog() {
        inBacklog = true;
        try {
            HttpObject msg;
            while (!closing && (exchange == null || !exchange.requestComplete()) && (msg = backlog.poll()) != null) {
                dispatch(msg);
            }
        } finally {
            inBacklog = false;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        if (exchange != null && context.channel().isWritable()) {
            exchange.onClientWritable();
        }
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (exchange != null) {
                exchange.onClientIdle();
            } else if (!closing) {
                context.close();
            }
            return;
        }
        context.fireUserEventTriggered(evt);
    }

    /** Graceful shutdown: an idle connection closes now, a busy one after its current response. */
    void drain() {
        draining = true;
        if (exchange == null && backlog.isEmpty()) {
            closing = true;
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        cancelHeadTimer();
        releaseBacklog();
        closing = true;
        ProxyExchange ex = exchange;
        exchange = null;
        if (ex != null) {
            ex.onClientClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        runtime.logConnectionError(context.channel(), cause);
        context.close();
    }

    /** Arms the request head deadline: from the head's first byte, or from the accept for a first request. */
    private void armHeadTimer() {
        long limit = runtime.config().timeouts().requestHeader().toNanos();
        long left = bytesSinceHead ? limit - (System.nanoTime() - headStartNanos) : limit;
        headTimer = ctx.executor().schedule(this::onHeadTimeout, Math.max(0, left), TimeUnit.NANOSECONDS);
    }

    private void cancelHeadTimer() {
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
    }

    private void onHeadTimeout() {
        headTimer = null;
        if (exchange != null || closing) {
            return;
        }
        if (bytesSinceHead) {
            runtime.logRejected(ctx.channel(), null, new ProxyFailure(Kind.REQUEST_TIMEOUT, "request head too slow"));
            runtime.metrics().rejected(Kind.REQUEST_TIMEOUT);
            closeAfter(ctx.writeAndFlush(ErrorResponses.of(HttpResponseStatus.REQUEST_TIMEOUT,
                    "request head not received in time", false)));
        } else {
            closing = true;
            ctx.close();
        }
    }

    private void releaseBacklog() {
        HttpObject m;
        while ((m = backlog.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }

    private String clientIp() {
        if (clientIp == null) {
            SocketAddress a = ctx.channel().remoteAddress();
            clientIp = a instanceof InetSocketAddress ? ((InetSocketAddress) a).getAddress().getHostAddress()
                    : String.valueOf(a);
        }
        return clientIp;
    }

    @Override
    public int requestNumber() {
        return requests;
    }

    @Override
    public String tlsSummary() {
        return tls;
    }
}
