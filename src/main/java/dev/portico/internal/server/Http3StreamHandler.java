package dev.portico.internal.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import javax.net.ssl.SSLSession;

/**
 * An HTTP/3 request stream: the same exchange host as an HTTP/2 stream ({@link MultiplexedStream}: admission,
 * exchange, reads following demand through AUTO_READ, writes following the stream's writability, which QUIC flow
 * control drives), with QUIC's own way of refusing a stream and of stopping the client's input, and the
 * connection's address and TLS session read from the {@link QuicChannel}.
 *
 * <p>Netty's HTTP/3 codec gives a request head before it knows whether a body follows (the end of the stream comes
 * as a separate event). The head is held until the first body part, the end, or the end of the read batch with the
 * stream still open, so a request without a body reaches the backend without one, as on HTTP/2.
 */
final class Http3StreamHandler extends MultiplexedStream {
    /** The version the access log shows for HTTP/3 requests. */
    static final HttpVersion HTTP_3 = HttpVersion.valueOf("HTTP/3.0");
    private static final String EXTENSION = "x-http3-";

    private HttpRequest pendingHead;
    private boolean headPassed;
    private InetAddress peer;

    Http3StreamHandler(ProxyRuntime runtime) {
        super(runtime, null);
    }

    private QuicStreamChannel stream() {
        return (QuicStreamChannel) ctx.channel();
    }

    private QuicChannel connection() {
        return stream().parent();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (!headPassed && msg instanceof HttpRequest head) {
            headPassed = true;
            removeExtension(head.headers());
            pendingHead = head;
            return;
        }
        if (pendingHead != null) {
            HttpRequest head = pendingHead;
            pendingHead = null;
            if (msg instanceof LastHttpContent last && !last.content().isReadable()
                    && last.trailingHeaders().isEmpty()) {
                last.release();
                // No body: what the codec marked chunked (it could not know) is a request without one.
                head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                super.channelRead(context, new DefaultFullHttpRequest(head.protocolVersion(), head.method(),
                        head.uri(), Unpooled.EMPTY_BUFFER, head.headers(), HttpHeaders.EMPTY_HEADERS));
                return;
            }
            super.channelRead(context, head);
        }
        super.channelRead(context, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        if (pendingHead != null && !stream().isInputShutdown()) {
            HttpRequest head = pendingHead; // the stream is still open: a body follows, streamed
            pendingHead = null;
            super.channelRead(context, head);
        }
        super.channelReadComplete(context);
    }

    private static void removeExtension(HttpHeaders h) {
        h.names().stream().filter(n -> n.regionMatches(true, 0, EXTENSION, 0, EXTENSION.length()))
                .toList().forEach(h::remove);
    }

    @Override
    public void normalize(HttpRequest request) {
        request.setProtocolVersion(HTTP_3);
    }

    @Override
    void refuseStream() {
        // RFC 9114 section 8.1: H3_REQUEST_REJECTED says nothing was processed, so the client may retry.
        stream().shutdown(Http3ErrorCode.H3_REQUEST_REJECTED.code());
    }

    @Override
    void stopInput() {
        // RFC 9114 section 4.1: a complete response may be followed by STOP_SENDING with H3_NO_ERROR.
        stream().shutdownInput(Http3ErrorCode.H3_NO_ERROR.code());
    }

    @Override
    void countReset() {
        Http3ConnectionGuard guard = Http3ConnectionGuard.of(ctx.channel());
        if (guard != null) {
            guard.clientCausedReset();
        }
    }

    @Override
    boolean firstClientError() {
        Http3ConnectionGuard guard = Http3ConnectionGuard.of(ctx.channel());
        return guard == null || guard.firstClientError();
    }

    @Override
    public int requestNumber() {
        return (int) stream().streamId();
    }

    @Override
    public SocketAddress localAddress() {
        return connection().localSocketAddress();
    }

    @Override
    public InetAddress peer() {
        if (peer == null) {
            peer = connection().remoteSocketAddress() instanceof InetSocketAddress a ? a.getAddress()
                    : InetAddress.getLoopbackAddress();
        }
        return peer;
    }

    @Override
    public String peerIp() {
        return peer().getHostAddress();
    }

    @Override
    public boolean secure() {
        return true;
    }

    @Override
    public String tlsSummary() {
        SSLSession session = connection().sslEngine() == null ? null : connection().sslEngine().getSession();
        return session == null ? "TLSv1.3" : session.getProtocol() + " " + session.getCipherSuite();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        pendingHead = null;
        if (!stream().isOutputShutdown()) {
            // Closed before its response ended: the client reset it (or broke HTTP/3 on it, see exceptionCaught).
            // Each such stream counts against http2.max_resets, so opening and cancelling streams in a loop (Rapid
            // Reset) closes the connection.
            countReset();
        }
        super.channelInactive(context);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof QuicStreamResetException) {
            LOG.debug("{} HTTP/3 stream reset by the client", context.channel().id().asShortText());
        } else if (firstClientError()) {
            LOG.warn("{} HTTP/3 stream error: {} (further client errors on this connection at DEBUG)",
                    context.channel().id().asShortText(), cause.toString());
        } else {
            LOG.debug("{} HTTP/3 stream error: {}", context.channel().id().asShortText(), cause.toString());
        }
        context.close();
    }
}
