package dev.portico.internal.server;

import dev.portico.internal.policy.PolicyRun;
import dev.portico.internal.proxy.ProxyExchange;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.upstream.Http2TunnelFrames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The last stage of an HTTP/2 stream's child channel: its one request, routed and forwarded as HTTP/1.1 by a
 * {@link ProxyExchange} exactly as {@link FrontendHandler} does for HTTP/1.1. Reads follow demand through the
 * stream's AUTO_READ (a stream not read sends no WINDOW_UPDATE, so the client's flow-control window closes), and
 * the response follows the stream's writability (its send window). Errors are answered on this stream only.
 * Not final: {@link Http3StreamHandler} is the same exchange host on a QUIC stream.
 */
class Http2StreamHandler extends Http2StreamSide {
    private ProxyExchange exchange;
    /** The request's policies while they decide (suspended), or null. */
    private PolicyRun waiting;
    /** Body parts that arrived while the policies decided. */
    private ArrayDeque<HttpObject> held;
    private boolean headSeen;
    /** The connection's watch on stream send windows; null outside an HTTP/2 connection (unit tests). */
    private Http2FlowWatch flow;
    /** The request is an extended CONNECT for a WebSocket (RFC 8441): its DATA is the tunnel's, never a body. */
    private boolean extendedConnect;
    /** The tunnel's bytes the client sent before the backend's answer; handed to the tunnel, or dropped. */
    private ArrayDeque<HttpContent> early;
    /** The stream is a tunnel now: this handler is out of its pipeline. */
    private boolean tunnelled;

    /**
     * @param runtime the running proxy
     * @param connection what the streams of the connection share, or {@code null} to look it up for this one
     */
    Http2StreamHandler(ProxyRuntime runtime, Connection connection) {
        super(runtime, connection);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        // When the connection closes, Netty leaves a stream that is not reading (its backend is slow) open with its
        // received frames queued: close it with the connection, so its exchange ends and the frames are released.
        // The connection's flow watch does that for its streams; anywhere else, a listener on the connection.
        Channel parent = context.channel().parent();
        if (parent != null) {
            flow = flowWatch(parent);
            if (flow != null && context.channel() instanceof Http2StreamChannel ch) {
                flow.watch(ch, this);
            } else {
                ChannelFutureListener closeStream = f -> context.close();
                parent.closeFuture().addListener(closeStream);
                context.channel().closeFuture().addListener(f -> parent.closeFuture().removeListener(closeStream));
            }
        }
    }

    /** The connection closed: so does this stream, whether this handler is still in its pipeline or not. */
    void connectionClosed() {
        ctx.channel().close();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (!(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof LastHttpContent) {
            inputEnded = true;
        }
        if (headSeen && extendedConnect && msg instanceof HttpContent part) {
            keepForTunnel(part);
            return;
        }
        if (headSeen || !(msg instanceof HttpRequest)) {
            deliver((HttpObject) msg);
            return;
        }
        headSeen = true;
        if (msg instanceof FullHttpRequest full) {
            // HEADERS with END_STREAM: a head and an empty end, as the HTTP/1.1 decoder would give them.
            HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
                    full.headers());
            LastHttpContent end;
            if (full.content().isReadable()) {
                end = new DefaultLastHttpContent(full.content()); // takes over the message's buffer
            } else {
                full.content().release(); // empty (Http2RequestCheck's is the shared empty buffer)
                end = LastHttpContent.EMPTY_LAST_CONTENT;
            }
            onRequestHead(head);
            deliver(end);
        } else {
            onRequestHead((HttpRequest) msg);
            if (extendedConnect) {
                deliver(LastHttpContent.EMPTY_LAST_CONTENT); // a GET to the backend: no body, whatever follows
            }
        }
    }

    /** {@link Http2RequestCheck} saw an extended CONNECT for a WebSocket and turned it into a GET. */
    void extendedConnect() {
        extendedConnect = true;
    }

    @Override
    public boolean webSocket(HttpRequest request) {
        return extendedConnect;
    }

    /** Client bytes before the tunnel: kept while the backend decides (reading is off meanwhile), else dropped. */
    private void keepForTunnel(HttpContent part) {
        if (waiting == null && (exchange == null || !exchange.awaitsUpgrade())) {
            part.release(); // refused or answered: what the client still sends is read and dropped
            return;
        }
        if (early == null) {
            early = new ArrayDeque<>(2);
        }
        early.add(part);
    }

    private void releaseEarly() {
        HttpContent part;
        while (early != null && (part = early.poll()) != null) {
            part.release();
        }
    }

    private void deliver(HttpObject msg) {
        if (waiting != null && msg instanceof HttpContent) {
            if (held == null) {
                held = new ArrayDeque<>(4);
            }
            held.add(msg); // the request's policies are deciding: its body waits
            return;
        }
        if (exchange != null && msg instanceof HttpContent && !exchange.requestComplete()) {
            exchange.onRequestContent((HttpContent) msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onRequestHead(HttpRequest request) {
        removeExtensionHeaders(request.headers());
        if (extendedConnect) {
            request.headers().remove(HttpHeaderNames.TRANSFER_ENCODING); // the codec's, for a stream left open
        }
        Admission.admit(this, request);
    }

    @Override
    public void answer(HttpRequest request, FullHttpResponse response, boolean close) {
        endInputAfter(ctx.writeAndFlush(response));
        releaseHeld();
        releaseEarly();
        updateReading(); // after a suspension nothing else turns reading back on
    }

    @Override
    public void hold(PolicyRun run) {
        waiting = run;
    }

    @Override
    public void begin(ProxyExchange started, String requestId) {
        exchange = started;
        started.start();
        HttpObject part;
        while (held != null && (part = held.poll()) != null) {
            deliver(part);
        }
        updateReading();
    }

    private void releaseHeld() {
        HttpObject part;
        while (held != null && (part = held.poll()) != null) {
            ReferenceCountUtil.release(part);
        }
    }

    @Override
    public boolean clientWritable() {
        Channel ch = ctx.channel();
        if (!ch.isWritable() || ch.parent() != null && !ch.parent().isWritable()) {
            return false;
        }
        return flow == null || !(ch instanceof Http2StreamChannel s) || flow.writable(s.stream());
    }

    /** The flow controller's view of this stream changed (a WINDOW_UPDATE, data sent, the connection's state). */
    void sendWindowChanged() {
        if (tunnelled) {
            ctx.channel().pipeline().fireChannelWritabilityChanged(); // the tunnel's end asks clientWritable()
        } else if (exchange != null && clientWritable()) {
            exchange.onClientWritable();
        }
    }

    @Override
    public void updateReading() {
        ChannelConfig config = ctx.channel().config();
        boolean want = exchange == null ? waiting == null
                : !exchange.awaitsUpgrade() && (exchange.requestComplete() || exchange.wantsRequestBody());
        if (config.isAutoRead() != want) {
            config.setAutoRead(want);
            if (want) {
                // Reading again may have consumed queued DATA outside the connection's read loop: Netty writes the
                // stream's WINDOW_UPDATE then but leaves it unflushed, and the client would wait for it forever.
                ctx.channel().parent().flush();
            }
        }
    }

    @Override
    public void exchangeDone(ProxyExchange done, ChannelFuture lastWrite, boolean keepAlive) {
        if (done != exchange) {
            return;
        }
        exchange = null;
        releaseEarly();
        endInputAfter(lastWrite);
        updateReading(); // the rest of an upload is read and dropped meanwhile, so the client is not stuck
    }

    @Override
    public void exchangeFailed(ProxyExchange failed, ProxyFailure failure, boolean responseStarted) {
        if (failed != exchange) {
            return;
        }
        exchange = null;
        releaseEarly();
        HttpResponseStatus status = failure.kind().status();
        if (responseStarted || status == null || !ctx.channel().isActive()) {
            ctx.close(); // RST_STREAM: the truncation is visible on this stream only
            return;
        }
        String detail = status.code() >= 500 ? "the upstream server failed" : failure.getMessage();
        FullHttpResponse response = ErrorResponses.of(status, detail, true);
        FullHttpResponse stale = failed.policies() == null ? null : failed.policies().substitute(response, true);
        if (stale != null) { // a cache answers with a stale entry while the backend is unreachable
            response.release();
            response = stale;
        }
        if (failed.policies() != null) {
            response = failed.policies().onLocalResponse(response);
        }
        if (failed.grpc() != null) { // the access log has the HTTP status; a gRPC client reads a grpc-status
            response = failed.grpc().answer(response);
        }
        endInputAfter(ctx.writeAndFlush(response));
    }

    @Override
    public void switchProtocols(ProxyExchange switched, ChannelHandler tunnelEnd) {
        if (switched != exchange || !extendedConnect) {
            ctx.close(); // never asked for: an HTTP/2 request carries no Upgrade (RFC 9113 section 8.2.2)
            return;
        }
        exchange = null;
        tunnelled = true;
        if (Http2TunnelFrames.install(ctx, tunnelEnd, early)) {
            ctx.channel().close(); // the client ended its stream before the tunnel opened: nothing to carry
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        if (exchange != null) {
            exchange.onClientReadComplete();
        }
        updateReading();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        if (exchange != null && clientWritable()) {
            exchange.onClientWritable();
        }
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (exchange != null) {
                exchange.onClientIdle();
            } else {
                context.close();
            }
            return;
        }
        ReferenceCountUtil.release(evt); // e.g. the client's RST_STREAM; the channel closes next
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        if (waiting != null) {
            waiting.cancel(); // a decision that comes later finds nobody to answer
            waiting = null;
        }
        releaseHeld();
        releaseEarly();
        ProxyExchange ex = exchange;
        exchange = null;
        if (ex != null) {
            ex.onClientClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof Http2Exception) {
            // A stream error the client caused (RFC 9113 section 5.4.2): the multiplexer resets the stream with its
            // code right after this; closing here would reset it with CANCEL first, which no limit counts.
            Http2ConnectionGuard guard = Http2ConnectionGuard.of(context.channel());
            if (guard == null || guard.firstClientError()) {
                LOG.warn("{} HTTP/2 stream error: {} (further client errors on this connection at DEBUG)",
                        context.channel().id().asShortText(), cause.getMessage());
            } else {
                LOG.debug("{} HTTP/2 stream error: {}", context.channel().id().asShortText(), cause.getMessage());
            }
            countReset(context.channel());
            return;
        }
        runtime.logConnectionError(context.channel(), cause);
        context.close();
    }

}
