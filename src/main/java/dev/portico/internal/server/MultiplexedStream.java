package dev.portico.internal.server;

import dev.portico.internal.policy.PolicyRun;
import dev.portico.internal.proxy.ProxyExchange;
import dev.portico.internal.proxy.ProxyFailure;
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
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One request stream of a multiplexed connection (HTTP/2 or HTTP/3): its one request, routed and forwarded as
 * HTTP/1.1 by a {@link ProxyExchange} exactly as {@link FrontendHandler} does for HTTP/1.1. Reads follow demand
 * ({@link #reading(boolean)}: a stream not read returns no flow-control window, so the client stops), and the
 * response follows the stream's writability (its send window). Errors are answered on this stream only. Two kinds
 * of stream share this logic: a channel of its own, as the last stage of its pipeline ({@link Http3StreamHandler},
 * on a QUIC stream), and {@link Http2StreamHost}, an HTTP/2 stream kept as state on its connection, which does the
 * stream's I/O in frames. It extends Netty's handler adapter for the first; the second is no pipeline stage, so
 * the shared class is not named a {@code *Handler}.
 */
abstract class MultiplexedStream extends Http2StreamSide {
    private ProxyExchange exchange;
    /** The request's policies while they decide (suspended), or null. */
    private PolicyRun waiting;
    /** Body parts that arrived while the policies decided. */
    private ArrayDeque<HttpObject> held;
    private boolean headSeen;
    /** The request is an extended CONNECT for a WebSocket (RFC 8441): its DATA is the tunnel's, never a body. */
    private boolean extendedConnect;
    /** The tunnel's bytes the client sent before the backend's answer; handed to the tunnel, or dropped. */
    private ArrayDeque<HttpContent> early;

    /**
     * @param runtime the running proxy
     * @param connection what the streams of the connection share, or {@code null} to look it up for this one
     */
    MultiplexedStream(ProxyRuntime runtime, Connection connection) {
        super(runtime, connection);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        // A stream that is not reading (its backend is slow) may outlive its connection with its received data
        // queued: close it with the connection, so its exchange ends and the data is released.
        Channel parent = context.channel().parent();
        if (parent != null) {
            ChannelFutureListener closeStream = f -> context.close();
            parent.closeFuture().addListener(closeStream);
            context.channel().closeFuture().addListener(f -> parent.closeFuture().removeListener(closeStream));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        read(msg);
    }

    /** A part of the request: its head (the first), its body and its end, as HTTP/1.1 objects. */
    void read(Object msg) {
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
        endInputAfter(writeAndFlush(response));
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
        return ch.isWritable() && (ch.parent() == null || ch.parent().isWritable());
    }

    /** The stream's send window or its connection's writability changed. */
    void sendWindowChanged() {
        if (exchange != null && clientWritable()) {
            exchange.onClientWritable();
        }
    }

    @Override
    public void updateReading() {
        boolean want = exchange == null ? waiting == null
                : !exchange.awaitsUpgrade() && (exchange.requestComplete() || exchange.wantsRequestBody());
        if (reading() != want) {
            reading(want);
        }
    }

    /** @return whether the stream reads the client's frames now */
    boolean reading() {
        return ctx.channel().config().isAutoRead();
    }

    /** Starts or stops reading the client's frames: a stream not read sends no WINDOW_UPDATE. */
    void reading(boolean on) {
        ChannelConfig config = ctx.channel().config();
        config.setAutoRead(on);
        if (on) {
            // Reading again may have consumed queued DATA outside the connection's read loop: Netty writes the
            // stream's WINDOW_UPDATE then but leaves it unflushed, and the client would wait for it forever.
            ctx.channel().parent().flush();
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
        if (responseStarted || status == null || !streamActive()) {
            closeStream(); // RST_STREAM: the truncation is visible on this stream only
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
        endInputAfter(writeAndFlush(response));
    }

    @Override
    public void switchProtocols(ProxyExchange switched, ChannelHandler tunnelEnd) {
        if (switched != exchange || !extendedConnect) {
            closeStream(); // never asked for: an HTTP/2 request carries no Upgrade (RFC 9113 section 8.2.2)
            return;
        }
        exchange = null;
        if (installTunnel(tunnelEnd, early)) {
            closeStream(); // the client ended its stream before the tunnel opened: nothing to carry
        }
    }

    /**
     * Takes the stream out of HTTP: from now on its bytes are the tunnel's.
     *
     * @param tunnelEnd the tunnel's end for this stream
     * @param early the request's DATA read before the backend's answer, or {@code null}; emptied here
     * @return whether the client ended its stream before the switch, so the tunnel cannot be opened
     */
    boolean installTunnel(ChannelHandler tunnelEnd, ArrayDeque<HttpContent> early) {
        return true; // a stream channel (HTTP/3) has no extended CONNECT: never asked for
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        readComplete();
    }

    /** The connection's read is over: what it brought for this stream was all delivered. */
    void readComplete() {
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
            idle();
            return;
        }
        ReferenceCountUtil.release(evt); // e.g. the client's RST_STREAM; the channel closes next
    }

    /** Nothing moved on the stream for {@code timeouts.idle}. */
    void idle() {
        if (exchange != null) {
            exchange.onClientIdle();
        } else {
            closeStream();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        closed();
    }

    /** The stream closed (ended both ways, reset, or its connection closed): the exchange, if any, ends. */
    void closed() {
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
        runtime.logConnectionError(context.channel(), cause);
        context.close();
    }

    /** A stream error the client caused: logged (the first of the connection at WARN) and counted as a reset. */
    void streamError(Throwable cause) {
        String id = streamChannel().id().asShortText();
        if (firstClientError()) {
            LOG.warn("{} HTTP/2 stream error: {} (further client errors on this connection at DEBUG)", id,
                    cause.getMessage());
        } else {
            LOG.debug("{} HTTP/2 stream error: {}", id, cause.getMessage());
        }
        countReset();
    }

}
