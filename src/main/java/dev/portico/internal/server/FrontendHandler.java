package dev.portico.internal.server;

import dev.portico.internal.policy.PolicyRun;
import dev.portico.internal.proxy.ProxyExchange;
import dev.portico.internal.proxy.ProxyFailure;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * The last stage of a client connection: validates and routes each request, runs one {@link ProxyExchange} at a
 * time, and keeps pipelined requests that arrive early in a backlog (bounded: nothing more is read while it holds
 * anything) so responses go out in order. What the connection does without an exchange (refusals, error
 * responses, the request head deadline, the lingering close) is {@link FrontendConnection}.
 */
final class FrontendHandler extends FrontendConnection implements RequestSide {

    /** Set on a {@code redirect_https} listener: every request is answered with a redirect. */
    private final HttpsRedirect redirect;
    /** Pipelined requests that arrived early; created with the first one, dropped once empty (most have none). */
    private ArrayDeque<HttpObject> backlog;
    private ProxyExchange exchange;
    /** The request whose policies are deciding (suspended), or null. */
    private PolicyRun waiting;
    private boolean inBacklog;
    /** The connection's codec, which gives back its decoder and encoder while the connection is quiet. */
    private FrontendCodec codec;

    FrontendHandler(ProxyRuntime runtime, String tls, HttpsRedirect redirect) {
        super(runtime, tls);
        this.redirect = redirect;
    }

    @Override
    boolean hasExchange() {
        return exchange != null;
    }

    /** Taken out of the pipeline (the connection switched protocols): nothing of it may fire any more. */
    @Override
    public void handlerRemoved(ChannelHandlerContext context) {
        closing = true;
        cancelHeadTimer();
        stopIdleTimer();
        releaseBacklog();
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        startIdleTimer();
        runtime.connectionOpened(context.channel());
        armHeadTimer();
    }

    /**
     * Called by the codec for every chunk of bytes: a request head may be starting. Nothing is scheduled, and the
     * clock is not read: at the end of the read, a head still incomplete gets its start time (the read's, a few
     * microseconds later) and a timer, so back-to-back requests, whose heads come whole, cost neither.
     */
    void onBytes() {
        if ((exchange == null || exchange.requestComplete()) && !bytesSinceHead) {
            bytesSinceHead = true;
            headStartPending = true;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (closing || !(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (hasBacklog()) {
            toBacklog((HttpObject) msg);
            return;
        }
        dispatch((HttpObject) msg);
    }

    private void dispatch(HttpObject msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (waiting != null) {
            toBacklog(msg); // the request's policies are deciding: its body waits, unread
        } else if (exchange != null && !exchange.requestComplete()) {
            if (msg instanceof HttpContent) {
                exchange.onRequestContent((HttpContent) msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        } else if (exchange != null) {
            toBacklog(msg);
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
        active();
        noteHeadStart();
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
        if (hasBacklog()) {
            drainBacklog();
        }
        ChannelConfig config = ctx.channel().config();
        boolean want = wantsRead();
        if (config.isAutoRead() != want) {
            config.setAutoRead(want);
        }
    }

    private boolean wantsRead() {
        if (hasBacklog() || waiting != null) {
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
        Admission.admit(this, request);
    }

    @Override
    public ProxyRuntime runtime() {
        return runtime;
    }

    @Override
    public HttpsRedirect redirect() {
        return redirect;
    }

    @Override
    public SocketAddress localAddress() {
        return ctx.channel().localAddress();
    }

    @Override
    public boolean secure() {
        return tls != null;
    }

    @Override
    public void normalize(HttpRequest request) {
        if (request.protocolVersion().minorVersion() > 1) {
            // RFC 9110 section 2.5: a higher minor version is handled as the highest one we implement.
            request.setProtocolVersion(HttpVersion.HTTP_1_1);
        }
    }

    @Override
    public boolean bodyFollows(HttpRequest request) {
        return HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
    }

    @Override
    public void logRefusal(ProxyFailure failure, HttpRequest request) {
        runtime.logRejected(ctx.channel(), request, failure);
    }

    @Override
    public boolean shed(HttpRequest request) {
        return false; // HTTP/1.1 has no "not processed" answer of its own: a 503
    }

    @Override
    public void answer(HttpRequest request, FullHttpResponse response, boolean close) {
        boolean keepAlive = !close && !closeAfterResponse();
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        ChannelFuture f = ctx.writeAndFlush(response);
        if (!keepAlive) {
            closeAfter(f);
            return;
        }
        updateReading(); // after a suspension nothing else turns reading back on
    }

    @Override
    public void sendContinue(HttpRequest request) {
        if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
    }

    @Override
    public void hold(PolicyRun run) {
        waiting = run;
    }

    @Override
    public void begin(ProxyExchange started, String id) {
        exchange = started;
        requestId = id;
        requestIdName = runtime.snapshot().requestIdName;
        started.start();
        if (exchange == started) {
            updateReading(); // after a suspension nothing else turns reading back on
        }
    }

    @Override
    public void exchangeDone(ProxyExchange done, ChannelFuture lastWrite, boolean keepAlive) {
        if (done != exchange) {
            return;
        }
        exchange = null;
        requestId = null; // only an exchange's error response needs it; an idle connection keeps no string
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
        FullHttpResponse response = errorResponse(status, detail, false);
        FullHttpResponse stale = failed.policies() == null ? null : failed.policies().substitute(response, true);
        if (stale != null) { // a cache answers with a stale entry while the backend is unreachable
            response.release();
            response = stale;
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE); // closed after, as errors are
        }
        if (failed.policies() != null) {
            response = failed.policies().onLocalResponse(response);
        }
        if (failed.grpc() != null) { // the access log has the HTTP status; a gRPC client reads a grpc-status
            response = failed.grpc().answer(response);
        }
        closeAfter(ctx.writeAndFlush(response));
    }

    @Override
    public void switchProtocols(ProxyExchange switched, ChannelHandler tunnelEnd) {
        if (switched != exchange) {
            return;
        }
        exchange = null;
        closing = true;
        cancelHeadTimer();
        if (hasBacklog()) {
            // The client spoke before the 101: what it sent was decoded as HTTP and is lost to the tunnel.
            releaseBacklog();
            ctx.close();
            return;
        }
        ChannelPipeline p = ctx.pipeline();
        p.replace(this, "tunnel", tunnelEnd); // the idle timer stops with this handler
        p.remove(FrontendCodec.class);
    }

    private boolean hasBacklog() {
        return backlog != null && !backlog.isEmpty();
    }

    private void toBacklog(HttpObject msg) {
        if (backlog == null) {
            backlog = new ArrayDeque<>(4);
        }
        backlog.add(msg);
    }

    private void drainBacklog() {
        inBacklog = true;
        try {
            HttpObject msg;
            while (!closing && waiting == null && (exchange == null || !exchange.requestComplete())
                    && backlog != null && (msg = backlog.poll()) != null) {
                dispatch(msg);
            }
            if (backlog != null && backlog.isEmpty()) {
                backlog = null; // an idle keep-alive connection holds no deque
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

    /** @param c the connection's codec */
    void codec(FrontendCodec c) {
        codec = c;
    }

    @Override
    void onQuiet() {
        if (codec != null && codec.holding() && exchange == null && waiting == null && !hasBacklog() && !closing) {
            codec.shrink(ctx.pipeline().context(codec));
        }
    }

    @Override
    void onIdle() {
        if (exchange != null) {
            exchange.onClientIdle();
        } else if (!closing) {
            ctx.close();
        }
    }

    /**
     * Graceful shutdown: an idle connection closes once what it has written is flushed, a busy one after its
     * current response. An exchange ends when its last write is queued, so an "idle" connection may still hold
     * the end of a response for a slow reader: the close waits for an empty write behind it (bounded by the drain
     * timeout, after which the listener or the runtime closes what is left).
     */
    void drain() {
        draining = true;
        if (exchange == null && !hasBacklog() && !closing) {
            closing = true;
            cancelHeadTimer();
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        cancelHeadTimer();
        stopIdleTimer();
        releaseBacklog();
        closing = true;
        if (waiting != null) {
            waiting.cancel(); // a decision that comes later finds nobody to answer
            waiting = null;
        }
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

    @Override
    void releaseBacklog() {
        ArrayDeque<HttpObject> b = backlog;
        backlog = null;
        HttpObject m;
        while (b != null && (m = b.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
