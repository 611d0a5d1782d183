package dev.portico.server;

import dev.portico.proxy.ExchangeHost;
import dev.portico.proxy.HeaderRewriter;
import dev.portico.proxy.AccessLogEntry;
import dev.portico.proxy.ExchangeLog;
import dev.portico.proxy.ProxyExchange;
import dev.portico.proxy.ProxyFailure;
import dev.portico.route.Route;
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
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The last stage of an HTTP/2 stream's child channel: its one request, routed and forwarded as HTTP/1.1 by a
 * {@link ProxyExchange} exactly as {@link FrontendHandler} does for HTTP/1.1. Reads follow demand through the
 * stream's AUTO_READ (a stream not read sends no WINDOW_UPDATE, so the client's flow-control window closes), and
 * the response follows the stream's writability (its send window). Errors are answered on this stream only.
 */
final class Http2StreamHandler extends ChannelInboundHandlerAdapter implements ExchangeHost {
    /** The version the access log shows for HTTP/2 requests. */
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    private static final String EXTENSION_PREFIX = "x-http2-";

    private final ProxyRuntime runtime;
    private ChannelHandlerContext ctx;
    /** The TLS summary once looked up; {@code ""} for h2c. */
    private String tls;
    private ProxyExchange exchange;
    private boolean headSeen;
    private boolean inputEnded;
    private String clientIp;

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
        if (exchange != null && msg instanceof HttpContent && !exchange.requestComplete()) {
            exchange.onRequestContent((HttpContent) msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onRequestHead(HttpRequest request) {
        removeExtensionHeaders(request.headers());
        Snapshot snapshot = runtime.snapshot(); // once: the exchange keeps this configuration to its end
        ProxyFailure invalid = RequestValidator.check(request, snapshot.config.limits().maxHeaders());
        if (invalid != null) {
            reject(invalid, request.method().name(), request.uri(), inputEnded);
            return;
        }
        request.setProtocolVersion(HTTP_2);
        RequestTarget target;
        try {
            target = RequestTarget.parse(request.method(), request.uri());
        } catch (ProxyFailure f) {
            reject(f, request.method().name(), request.uri(), inputEnded);
            return;
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        Route route = snapshot.router.find(host, target.routingPath());
        ProxyFailure refused = RequestValidator.admit(route, request);
        if (refused != null) {
            reject(refused, request.method().name(), request.uri(), inputEnded);
            return;
        }
        String expect = request.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null && !inputEnded) {
            // The stream codec sends an interim response only from a full message.
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        String upstreamTarget = target.path().equals("*") ? "*" : route.upstreamTarget(target.path(), target.query());
        ExchangeLog log = snapshot.exchangeLog(this, runtime.accessLog(), request, clientIp(), route);
        HttpRequest upstream = HeaderRewriter.upstreamRequest(request, upstreamTarget, host, clientIp(), host);
        if (tlsSummary() != null) {
            upstream.headers().set("x-forwarded-proto", "https");
        }
        exchange = new ProxyExchange(this, runtime.pool(ctx.channel().eventLoop()), route, log,
                request, true, upstream, snapshot.config.timeouts().response().toMillis());
        exchange.start();
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
        runtime.logRejected(ctx.channel(), null, failure);
        HttpResponseStatus status = failure.kind().status();
        runtime.metrics().rejected(failure.kind());
        runtime.metrics().localResponse(status.code());
        if (runtime.accessLog().enabled()) {
            runtime.accessLog().log(new AccessLogEntry(System.currentTimeMillis(), clientIp(),
                    method == null ? "-" : method.toString(), target == null ? "-" : target.toString(),
                    HTTP_2.text(), status.code(), 0, 0, null, -1, null, null, 0, null, null, null, tlsSummary()));
        }
        ctx.writeAndFlush(ErrorResponses.of(status, failure.getMessage(), true));
        endInput();
    }

    /** After a complete response: a client still sending is told to stop, without error (RFC 9113 section 8.1). */
    private void endInput() {
        if (!inputEnded && ctx.channel().isActive()) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
        }
    }

    @Override
    public Channel clientChannel() {
        return ctx.channel();
    }

    @Override
    public int requestNumber() {
        return ((Http2StreamChannel) ctx.channel()).stream().id();
    }

    @Override
    public void updateReading() {
        ChannelConfig config = ctx.channel().config();
        boolean want = exchange == null || exchange.requestComplete() || exchange.wantsRequestBody();
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
        endInput();
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
            ctx.close(); // RST_STREAM: the truncation is visible on this stream only
            return;
        }
        String detail = status.code() >= 500 ? "the upstream server failed" : failure.getMessage();
        ctx.writeAndFlush(ErrorResponses.of(status, detail, true));
        endInput();
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
            } else {
                context.close();
            }
            return;
        }
        ReferenceCountUtil.release(evt); // e.g. the client's RST_STREAM; the channel closes next
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
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
