package dev.portico.internal.server;

import dev.portico.internal.policy.PolicyRun;
import dev.portico.internal.proxy.Correlation;
import dev.portico.internal.proxy.HeaderRewriter;
import dev.portico.internal.proxy.AccessLogEntry;
import dev.portico.internal.proxy.BufferBudget;
import dev.portico.internal.proxy.ExchangeLog;
import dev.portico.internal.proxy.ProxyExchange;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.route.Route;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last stage of an HTTP/2 stream's child channel: its one request, routed and forwarded as HTTP/1.1 by a
 * {@link ProxyExchange} exactly as {@link FrontendHandler} does for HTTP/1.1. Reads follow demand through the
 * stream's AUTO_READ (a stream not read sends no WINDOW_UPDATE, so the client's flow-control window closes), and
 * the response follows the stream's writability (its send window). Errors are answered on this stream only.
 */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter implements RequestSide {
    /** The version the access log shows for HTTP/2 requests. */
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    private static final String EXTENSION_PREFIX = "x-http2-";
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final ProxyRuntime runtime;
    private ChannelHandlerContext ctx;
    /** The TLS summary once looked up; {@code ""} for h2c. */
    private String tls;
    private ProxyExchange exchange;
    /** The request's policies while they decide (suspended), or null. */
    private PolicyRun waiting;
    /** Body parts that arrived while the policies decided. */
    private ArrayDeque<HttpObject> held;
    private InetAddress peer;
    private boolean headSeen;
    private boolean inputEnded;
    private String clientIp;
    /** The connection's watch on stream send windows; null outside an HTTP/2 connection (unit tests). */
    private Http2FlowWatch flow;

    Http2StreamHandler(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        ctx = context;
        // When the connection closes, Netty leaves a stream that is not reading (its backend is slow) open with its
        // received frames queued: close it with the connection, so its exchange ends and the frames are released.
        Channel parent = context.channel().parent();
        if (parent != null) {
            ChannelFutureListener closeStream = f -> context.close();
            parent.closeFuture().addListener(closeStream);
            context.channel().closeFuture().addListener(f -> parent.closeFuture().removeListener(closeStream));
            flow = parent.pipeline().get(Http2FlowWatch.class);
            if (flow != null && context.channel() instanceof Http2StreamChannel ch) {
                flow.watch(ch.stream(), this);
                context.channel().closeFuture().addListener(f -> flow.unwatch(ch.stream()));
            }
        }
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
        if (headSeen || !(msg instanceof HttpRequest)) {
            deliver((HttpObject) msg);
            return;
        }
        headSeen = true;
        if (msg instanceof FullHttpRequest full) {
            // HEADERS with END_STREAM: a head and an empty end, as the HTTP/1.1 decoder would give them.
            HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
                    full.headers());
            LastHttpContent end = new DefaultLastHttpContent(full.content()); // takes over the message's buffer
            onRequestHead(head);
            deliver(end);
        } else {
            onRequestHead((HttpRequest) msg);
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
        Admission.admit(this, request);
    }

    @Override
    public ProxyRuntime runtime() {
        return runtime;
    }

    @Override
    public HttpsRedirect redirect() {
        Channel parent = ctx.channel().parent();
        return parent == null ? null : parent.attr(FrontendInitializer.REDIRECT).get();
    }

    @Override
    public SocketAddress localAddress() {
        Channel ch = ctx.channel().parent() != null ? ctx.channel().parent() : ctx.channel();
        return ch.localAddress();
    }

    @Override
    public InetAddress peer() {
        if (peer == null) {
            Channel ch = ctx.channel().parent() != null ? ctx.channel().parent() : ctx.channel();
            peer = ProxyProtocolHandler.clientAddress(ch);
        }
        return peer;
    }

    @Override
    public String peerIp() {
        return clientIp();
    }

    @Override
    public boolean secure() {
        return tlsSummary() != null;
    }

    @Override
    public void normalize(HttpRequest request) {
        request.setProtocolVersion(HTTP_2);
    }

    @Override
    public boolean bodyFollows(HttpRequest request) {
        return !inputEnded;
    }

    @Override
    public void refuse(ProxyFailure failure, HttpRequest request, boolean close, PolicyRun phases) {
        Snapshot snapshot = runtime.snapshot();
        String id = snapshot.requestIdName == null ? null
                : Correlation.requestId(request.headers(), snapshot.requestIdName);
        logRefusal(failure);
        HttpResponseStatus status = failure.kind().status();
        ExchangeLog.rejected(runtime.accessLog(), request, clientIp(), status.code(), id, tlsSummary());
        FullHttpResponse response = ErrorResponses.of(status, failure.getMessage(), true);
        if (id != null) {
            response.headers().set(snapshot.requestIdName, id);
        }
        if (phases != null) {
            phases.onResponse(response, true);
        }
        if (request.method().name().equals("HEAD")) {
            response.content().clear();
        }
        endInputAfter(ctx.writeAndFlush(response));
    }

    @Override
    public void shed(HttpRequest request) {
        // Shed before any work: REFUSED_STREAM tells the client nothing was processed (RFC 9113 section 8.7).
        runtime.logRejected(ctx.channel(), request, new ProxyFailure(ProxyFailure.Kind.OVERLOADED,
                "too many response bytes held for slow clients"));
        runtime.metrics().rejected(ProxyFailure.Kind.OVERLOADED);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
    }

    @Override
    public void answer(HttpRequest request, FullHttpResponse response, boolean close) {
        endInputAfter(ctx.writeAndFlush(response));
        releaseHeld();
        updateReading(); // after a suspension nothing else turns reading back on
    }

    @Override
    public void sendContinue(HttpRequest request) {
        if (!inputEnded) {
            // The stream codec sends an interim response only from a full message.
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
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

    /** The codec's own fields ({@code x-http2-stream-id}, {@code x-http2-scheme}, ...) never reach a backend. */
    private static void removeExtensionHeaders(HttpHeaders h) {
        List<String> names = null;
        for (Map.Entry<String, String> e : h) {
            if (e.getKey().regionMatches(true, 0, EXTENSION_PREFIX, 0, EXTENSION_PREFIX.length())) {
                if (names == null) {
                    names = new ArrayList<>(2);
                }
                names.add(e.getKey());
            }
        }
        if (names != null) {
            names.forEach(h::remove);
        }
    }

    /**
     * Answers the stream with a failure's status and no exchange.
     *
     * @param failure why
     * @param method the request method, for the log (null if absent)
     * @param target the request path, for the log (null if absent)
     * @param requestEnded whether the client's side of the stream has ended
     */
    void reject(ProxyFailure failure, CharSequence method, CharSequence target, boolean requestEnded) {
        inputEnded |= requestEnded;
        logRefusal(failure);
        HttpResponseStatus status = failure.kind().status();
        if (runtime.accessLog().enabled()) {
            runtime.accessLog().log(new AccessLogEntry(System.currentTimeMillis(), clientIp(),
                    method == null ? "-" : method.toString(), target == null ? "-" : target.toString(),
                    HTTP_2.text(), status.code(), 0, 0, null, -1, null, null, 0, null, null, null, tlsSummary()));
        }
        endInputAfter(ctx.writeAndFlush(ErrorResponses.of(status, failure.getMessage(), true)));
    }

    /** Logs (once per connection at WARN) and counts a refusal. */
    private void logRefusal(ProxyFailure failure) {
        Http2ConnectionGuard guard = Http2ConnectionGuard.of(ctx.channel());
        if (guard == null || guard.firstClientError()) {
            runtime.logRejected(ctx.channel(), null, failure);
        }
        runtime.metrics().rejected(failure.kind());
        runtime.metrics().localResponse(failure.kind().status().code());
    }

    /**
     * After a complete response: a client still sending is told to stop, without error, once END_STREAM is really
     * sent (RFC 9113 section 8.1); a reset sent earlier would make Netty drop the response's unsent end.
     */
    private void endInputAfter(ChannelFuture lastWrite) {
        if (lastWrite == null) {
            endInput();
        } else {
            lastWrite.addListener(f -> endInput());
        }
    }

    private void endInput() {
        if (!inputEnded && ctx.channel().isActive()) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
            countReset(ctx.channel());
        }
    }

    @Override
    public Channel clientChannel() {
        return ctx.channel();
    }

    @Override
    public boolean clientWritable() {
        Channel ch = ctx.channel();
        if (!ch.isWritable() || ch.parent() != null && !ch.parent().isWritable()) {
            return false;
        }
        return flow == null || !(ch instanceof Http2StreamChannel s) || flow.writable(s.stream());
    }

    @Override
    public BufferBudget buffered() {
        return runtime.buffered();
    }

    /** The flow controller's view of this stream changed (a WINDOW_UPDATE, data sent, the connection's state). */
    void sendWindowChanged() {
        if (exchange != null && clientWritable()) {
            exchange.onClientWritable();
        }
    }

    @Override
    public int requestNumber() {
        return ((Http2StreamChannel) ctx.channel()).stream().id();
    }

    @Override
    public void updateReading() {
        ChannelConfig config = ctx.channel().config();
        boolean want = exchange == null ? waiting == null
                : exchange.requestComplete() || exchange.wantsRequestBody();
        if (config.isAutoRead() != want) {
            config.setAutoRead(want);
        }
    }

    @Override
    public boolean closeAfterResponse() {
        return false; // a stream carries one request; the connection outlives it
    }

    @Override
    public void exchangeDone(ProxyExchange done, ChannelFuture lastWrite, boolean keepAlive) {
        if (done != exchange) {
            return;
        }
        exchange = null;
        endInputAfter(lastWrite);
        updateReading(); // the rest of an upload is read and dropped meanwhile, so the client is not stuck
    }

    @Override
    public void exchangeFailed(ProxyExchange failed, ProxyFailure failure, boolean responseStarted) {
        if (failed != exchange) {
            return;
        }
        exchange = null;
        HttpResponseStatus status = failure.kind().status();
        if (responseStarted || status == null || !ctx.channel().isActive()) {
            ctx.close(); // RST_STREAM: the truncation is visible on this stream only
            return;
        }
        String detail = status.code() >= 500 ? "the upstream server failed" : failure.getMessage();
        FullHttpResponse response = ErrorResponses.of(status, detail, true);
        if (failed.policies() != null) {
            failed.policies().onResponse(response, true);
        }
        endInputAfter(ctx.writeAndFlush(response));
    }

    @Override
    public void switchProtocols(ProxyExchange exchange, ChannelHandler tunnelEnd) {
        ctx.close(); // never asked for: an HTTP/2 request carries no Upgrade (RFC 9113 section 8.2.2)
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

    private static void countReset(Channel stream) {
        Http2ConnectionGuard guard = Http2ConnectionGuard.of(stream);
        if (guard != null) {
            guard.clientCausedReset();
        }
    }

    private String clientIp() {
        if (clientIp == null) {
            Channel ch = ctx.channel().parent() != null ? ctx.channel().parent() : ctx.channel();
            SocketAddress a = ch.remoteAddress();
            clientIp = a instanceof InetSocketAddress ? ((InetSocketAddress) a).getAddress().getHostAddress()
                    : String.valueOf(a);
        }
        return clientIp;
    }

    /** @return the connection's TLS version and cipher suite (h2 over TLS), or {@code null} for h2c */
    @Override
    public String tlsSummary() {
        if (tls == null) {
            SslHandler ssl = ctx.channel().parent() == null ? null
                    : ctx.channel().parent().pipeline().get(SslHandler.class);
            tls = ssl == null ? "" : FrontendProtocolNegotiator.tlsSummary(ssl);
        }
        return tls.isEmpty() ? null : tls;
    }
}
