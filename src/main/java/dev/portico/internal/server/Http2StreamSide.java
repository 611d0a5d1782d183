package dev.portico.internal.server;

import dev.portico.internal.proxy.AccessLogEntry;
import dev.portico.internal.proxy.BufferBudget;
import dev.portico.internal.proxy.ProxyFailure;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import java.net.SocketAddress;
import java.net.InetAddress;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream half of a {@link MultiplexedStream}: what an HTTP/2 or HTTP/3 stream does without an exchange, and
 * what it tells {@link Admission} about itself (its connection's addresses and TLS, the redirect of its listener), its
 * refusals, and the end of its input after a response (RFC 9113 section 8.1). {@link MultiplexedStream} adds the
 * request: its body, its exchange, reading and writability. A superclass rather than a collaborator so that a
 * stream stays one object; its fields without an access modifier are shared with its subclasses alone.
 * The stream's I/O (its connection, writes, resets, its close) is in a few methods: a stream channel's by default,
 * in frames on the connection for {@link Http2StreamHost}; an HTTP/3 stream overrides how it refuses a stream
 * and stops the input.
 */
abstract class Http2StreamSide extends ChannelInboundHandlerAdapter implements RequestSide {
    /** The version the access log shows for HTTP/2 requests. */
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    static final String EXTENSION_PREFIX = "x-http2-";
    static final Logger LOG = LoggerFactory.getLogger("portico");

    final ProxyRuntime runtime;
    ChannelHandlerContext ctx;
    /** Whether the client's side of the stream has ended (END_STREAM, or the stream was refused). */
    boolean inputEnded;
    /** What the streams of this stream's connection share; made for this stream alone if it has none. */
    private Connection connection;

    Http2StreamSide(ProxyRuntime runtime, Connection connection) {
        this.runtime = runtime;
        this.connection = connection;
    }

    /**
     * What every stream of one HTTP/2 connection would otherwise look up again: the client's address and its text,
     * the TLS summary. Made once per connection, each part when first asked for, on the
     * connection's event loop.
     */
    static final class Connection {
        /** The TLS summary once looked up; {@code ""} for h2c. */
        private String tls;
        private InetAddress peer;
        private String clientIp;

        InetAddress peer(Channel ch) {
            if (peer == null) {
                peer = ProxyProtocolHandler.clientAddress(ch);
            }
            return peer;
        }

        String tls(Channel parent) {
            if (tls == null) {
                SslHandler ssl = parent == null ? null : parent.pipeline().get(SslHandler.class);
                tls = ssl == null ? "" : FrontendProtocolNegotiator.tlsSummary(ssl);
            }
            return tls.isEmpty() ? null : tls;
        }
    }

    private Connection shared() {
        if (connection == null) {
            connection = new Connection();
        }
        return connection;
    }

    @Override
    public ProxyRuntime runtime() {
        return runtime;
    }

    /** @return the connection the stream belongs to, or {@code null} for a channel of its own (unit tests) */
    Channel parentChannel() {
        return ctx.channel().parent();
    }

    /** @return the stream's channel: what the exchange sees as its client channel */
    Channel streamChannel() {
        return ctx.channel();
    }

    /** @return the connection's channel: the parent, else the stream's own */
    private Channel connectionChannel() {
        Channel parent = parentChannel();
        return parent != null ? parent : streamChannel();
    }

    /** Writes a message (a response or a frame) on the stream and flushes it. */
    ChannelFuture writeAndFlush(Object msg) {
        return ctx.writeAndFlush(msg);
    }

    /** @return whether the stream is still open */
    boolean streamActive() {
        return ctx.channel().isActive();
    }

    @Override
    public boolean clientOpen() {
        return streamActive();
    }

    /** Closes the stream; one not yet ended is reset (HTTP/2: RST_STREAM CANCEL). */
    void closeStream() {
        ctx.close();
    }

    /** Resets the stream (HTTP/2: RST_STREAM with {@code error}). */
    void reset(Http2Error error) {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
    }

    /** @return the connection's guard against resets and client errors, or {@code null} */
    Http2ConnectionGuard guard() {
        return Http2ConnectionGuard.of(ctx.channel());
    }

    @Override
    public HttpsRedirect redirect() {
        Channel parent = parentChannel();
        return parent == null ? null : parent.attr(FrontendInitializer.REDIRECT).get();
    }

    @Override
    public SocketAddress localAddress() {
        return connectionChannel().localAddress();
    }

    @Override
    public InetAddress peer() {
        return shared().peer(connectionChannel());
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
    public boolean shed(HttpRequest request) {
        // Shed before any work: REFUSED_STREAM tells the client nothing was processed (RFC 9113 section 8.7).
        runtime.logRejected(streamChannel(), request, new ProxyFailure(ProxyFailure.Kind.OVERLOADED,
                "too many response bytes held for slow clients"));
        runtime.metrics().rejected(ProxyFailure.Kind.OVERLOADED);
        refuseStream();
        return true;
    }

    /** Resets the stream as refused before any processing (HTTP/2: RST_STREAM REFUSED_STREAM). */
    void refuseStream() {
        reset(Http2Error.REFUSED_STREAM);
    }

    /** Asks a client still sending its body to stop, without error (HTTP/2: RST_STREAM NO_ERROR). */
    void stopInput() {
        reset(Http2Error.NO_ERROR);
    }

    /** Counts a reset the client made Portico send against its connection's limit. */
    void countReset() {
        Http2ConnectionGuard guard = guard();
        if (guard != null) {
            guard.clientCausedReset();
        }
    }

    /** @return whether this is the first client error on the connection (logged at WARN, later ones at DEBUG) */
    boolean firstClientError() {
        Http2ConnectionGuard guard = guard();
        return guard == null || guard.firstClientError();
    }

    @Override
    public void sendContinue(HttpRequest request) {
        if (!inputEnded) {
            // The stream codec sends an interim response only from a full message.
            writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
    }

    /**
     * The codec's own fields ({@code x-http2-stream-id}, {@code x-http2-scheme}, ...) never reach a backend. The
     * names are compared as they are, with no String made per field.
     */
    static void removeExtensionHeaders(HttpHeaders h) {
        List<CharSequence> names = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (name.length() >= EXTENSION_PREFIX.length()
                    && AsciiString.regionMatches(name, true, 0, EXTENSION_PREFIX, 0, EXTENSION_PREFIX.length())) {
                if (names == null) {
                    names = new ArrayList<>(4);
                }
                names.add(name);
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
        logRefusal(failure, null);
        runtime.metrics().rejected(failure.kind());
        HttpResponseStatus status = failure.kind().status();
        runtime.metrics().localResponse(status.code());
        if (runtime.accessLog().enabled()) {
            runtime.accessLog().log(new AccessLogEntry(System.currentTimeMillis(), clientIp(),
                    method == null ? "-" : method.toString(), target == null ? "-" : target.toString(),
                    HTTP_2.text(), status.code(), 0, 0, null, -1, null, null, 0, null, null, null, tlsSummary()));
        }
        endInputAfter(writeAndFlush(ErrorResponses.of(status, failure.getMessage(), true)));
    }

    /** Logs a refusal: once per connection at WARN, so one client's garbage cannot flood the log. */
    @Override
    public void logRefusal(ProxyFailure failure, HttpRequest request) {
        if (firstClientError()) {
            runtime.logRejected(streamChannel(), request, failure);
        }
    }

    /**
     * After a complete response: a client still sending is told to stop, without error, once END_STREAM is really
     * sent (RFC 9113 section 8.1); a reset sent earlier would make Netty drop the response's unsent end.
     */
    void endInputAfter(ChannelFuture lastWrite) {
        if (lastWrite == null) {
            endInput();
        } else {
            lastWrite.addListener(f -> endInput());
        }
    }

    void endInput() {
        if (!inputEnded && streamActive()) {
            stopInput();
            countReset();
        }
    }

    @Override
    public Channel clientChannel() {
        return streamChannel();
    }

    @Override
    public boolean closeAfterResponse() {
        return false; // a stream carries one request; the connection outlives it
    }

    @Override
    public BufferBudget buffered() {
        return runtime.buffered();
    }

    String clientIp() {
        Connection c = shared();
        if (c.clientIp == null) {
            c.clientIp = peer().getHostAddress(); // the PROXY header's source, as on HTTP/1.1
        }
        return c.clientIp;
    }

    /** @return the connection's TLS version and cipher suite (h2 over TLS), or {@code null} for h2c */
    @Override
    public String tlsSummary() {
        return shared().tls(parentChannel());
    }
}
