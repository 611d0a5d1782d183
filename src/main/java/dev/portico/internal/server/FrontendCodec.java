package dev.portico.internal.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Netty's HTTP/1.1 server codec with two more rules, checked on the head's bytes as the decoder consumes them
 * because the decoder's result no longer shows them: obs-fold (a field line continued by leading whitespace, RFC
 * 9112 section 5.2), which Netty joins into one value; and a request line that is not exactly
 * {@code method SP target SP HTTP/x.y} (RFC 9112 section 3), which Netty splits on any run of whitespace and whose
 * version it upper-cases. The header section is measured as sent, CRLFs included, against
 * {@code max_header_size} (Netty counts the field lines without their line endings), and the chunk extensions of a
 * chunked body are checked against their grammar ({@link ChunkLineScanner}).
 * The encoder pairs each final response with its request's method, as {@code HttpServerCodec} does, so the answer
 * to a HEAD never carries a body.
 *
 * <p>One handler, not a {@code CombinedChannelDuplexHandler} of two: every open connection holds its codec, and the
 * combination costs three more objects per connection. It also tells the frontend handler, if it has one, when
 * bytes arrive (the request head deadline starts with a request's first byte) and when a response is written (the
 * idle timer), which two more stages of the pipeline did before.
 */
final class FrontendCodec extends HttpRequestDecoder implements ChannelOutboundHandler {
    /** The message of the failure set on a request with obs-fold. */
    static final String OBS_FOLD = "obs-fold in request head";
    /** The message of the failure set on a head with more than one Content-Length field, or a list in one. */
    static final String MANY_LENGTHS = "more than one Content-Length value";
    private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** The message of the failure set on a request line with other separators than single spaces. */
    static final String BAD_REQUEST_LINE = "request line not in the form: method SP target SP HTTP/x.y";
    private static final byte[] HTTP_SLASH = {'H', 'T', 'T', 'P', '/'};
    /** The message of the failure set on a chunked body with a malformed chunk extension. */
    static final String BAD_CHUNK_EXT = "malformed chunk extension";

    private final Encoder encoder = new Encoder();
    /** Told of the bytes read and the responses written; {@code null} for a codec on its own (tests). */
    private final FrontendHandler frontend;
    /** True while the bytes being consumed belong to a request head (not a body). */
    private boolean inHead = true;
    private boolean afterLineFeed;
    private String malformed;
    /** Request line state: still in it; seen its first byte; spaces so far; last byte a space; version bytes. */
    private boolean inRequestLine = true;
    private boolean lineStarted;
    private int spaces;
    private boolean afterSpace;
    private int versionBytes;
    /** Field name matching: bytes of "content-length:" matched at the start of this line, or -1. */
    private int nameMatch = -1;
    private boolean inLengthValue;
    private int lengthFields;
    /** Bytes of the header section so far (after the request line), CRLFs included. */
    private int headerBytes;
    private boolean requestLineCr;
    private final int maxHeaderSize;
    /** The chunk lines' checker, while a chunked body is being read. */
    private ChunkLineScanner chunks;
    /** The body being read is chunked. */
    private boolean chunkedBody;
    /** A chunk line was malformed: the connection's remaining bytes are discarded. */
    private boolean broken;

    /** A codec on its own, for tests. */
    FrontendCodec(HttpDecoderConfig config) {
        this(config, null);
    }

    /** @param frontend the connection's handler, told of bytes read and responses written */
    FrontendCodec(HttpDecoderConfig config, FrontendHandler frontend) {
        super(config);
        this.maxHeaderSize = config.getMaxHeaderSize();
        this.frontend = frontend;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (frontend != null) {
            frontend.onBytes();
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (broken) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        int start = buffer.readerIndex();
        int before = out.size();
        super.decode(ctx, buffer, out);
        if (inHead) {
            scanHead(buffer, start, buffer.readerIndex());
        } else if (chunkedBody && !chunks.scan(buffer, start, buffer.readerIndex())) {
            failBody(buffer, out, before);
            return;
        }
        for (int i = before; i < out.size(); i++) {
            Object msg = out.get(i);
            if (msg instanceof HttpRequest) {
                HttpRequest request = (HttpRequest) msg;
                encoder.expect(request.method());
                if (request.decoderResult().isSuccess()) {
                    if (headerBytes > maxHeaderSize) {
                        request.setDecoderResult(DecoderResult.failure(new TooLongHttpHeaderException(
                                "header section over " + maxHeaderSize + " bytes")));
                    } else if (malformed != null) {
                        request.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(malformed)));
                    }
                }
                inHead = false;
                chunkedBody = request.decoderResult().isSuccess() && HttpUtil.isTransferEncodingChunked(request);
                chunks = chunkedBody ? new ChunkLineScanner() : null;
                resetHeadState();
            }
            if (msg instanceof LastHttpContent) {
                inHead = true;
                chunkedBody = false;
                chunks = null;
            }
        }
    }

    /**
     * A chunk line broke the grammar: what this read decoded of the body is dropped (the request fails anyway)
     * and the body ends with a failure, as Netty ends one with a malformed chunk size; nothing after it is read
     * as a request.
     */
    private void failBody(ByteBuf buffer, List<Object> out, int before) {
        while (out.size() > before) {
            ReferenceCountUtil.release(out.remove(out.size() - 1));
        }
        broken = true;
        buffer.skipBytes(buffer.readableBytes());
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        end.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(BAD_CHUNK_EXT)));
        out.add(end);
    }

    private void resetHeadState() {
        afterLineFeed = false;
        malformed = null;
        inRequestLine = true;
        lineStarted = false;
        spaces = 0;
        afterSpace = false;
        versionBytes = 0;
        nameMatch = -1;
        inLengthValue = false;
        lengthFields = 0;
        headerBytes = 0;
        requestLineCr = false;
    }

    /** Bytes [from, to) of the buffer were consumed as part of a head. */
    private void scanHead(ByteBuf buffer, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = buffer.getByte(i);
            if (inRequestLine) {
                scanRequestLine(b);
                requestLineCr = !inRequestLine && b == '\r';
            } else if (requestLineCr && b == '\n') {
                requestLineCr = false; // the request line's own CRLF, which max_request_line covers
            } else {
                requestLineCr = false;
                headerBytes++;
                if (afterLineFeed && (b == ' ' || b == '\t')) {
                    malformed = OBS_FOLD;
                }
                scanContentLength(b);
            }
            afterLineFeed = b == '\n';
        }
    }

    /**
     * Netty keeps only one Content-Length of an HTTP/1.0 request (the first), so several fields, or a list in
     * one, are caught here: two parsers could disagree on where the body ends.
     */
    private void scanContentLength(byte b) {
        if (afterLineFeed) {
            nameMatch = 0;
            inLengthValue = false;
        }
        if (inLengthValue) {
            if (b == ',') {
                malformed = MANY_LENGTHS;
            }
            return;
        }
        if (nameMatch >= 0) {
            byte lower = b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
            if (lower == CONTENT_LENGTH[nameMatch]) {
                if (++nameMatch == CONTENT_LENGTH.length) {
                    nameMatch = -1;
                    inLengthValue = true;
                    if (++lengthFields > 1) {
                        malformed = MANY_LENGTHS;
                    }
                }
            } else {
                nameMatch = -1;
            }
        }
    }

    private void scanRequestLine(byte b) {
        if (b == '\r' || b == '\n') {
            // Empty lines before the request line are allowed (RFC 9112 section 2.2); after it, the line ends.
            if (lineStarted) {
                inRequestLine = false;
                nameMatch = -1;
                if (spaces != 2 || versionBytes < HTTP_SLASH.length) {
                    malformed = BAD_REQUEST_LINE;
                }
            }
            return;
        }
        if (b == '\t' || (b == ' ' && (!lineStarted || afterSpace))) {
            malformed = BAD_REQUEST_LINE;
        }
        lineStarted = true;
        if (b == ' ') {
            spaces++;
            afterSpace = true;
            return;
        }
        afterSpace = false;
        if (spaces == 2 && versionBytes < HTTP_SLASH.length && b != HTTP_SLASH[versionBytes++]) {
            malformed = BAD_REQUEST_LINE;
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (frontend != null) {
            frontend.active();
        }
        encoder.write(ctx, msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.close(promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.disconnect(promise);
    }

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.deregister(promise);
    }

    @Override
    public void bind(ChannelHandlerContext ctx, SocketAddress local, ChannelPromise promise) {
        ctx.bind(local, promise);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local,
                        ChannelPromise promise) {
        ctx.connect(remote, local, promise);
    }

    /** Netty's response encoder, called with the codec's context, that knows which responses answer a HEAD. */
    static final class Encoder extends HttpResponseEncoder {
        /** The method of the oldest request not answered yet, and those of the pipelined ones after it, if any. */
        private HttpMethod next;
        private ArrayDeque<HttpMethod> later;

        void expect(HttpMethod method) {
            if (next == null) {
                next = method;
            } else {
                if (later == null) {
                    later = new ArrayDeque<>(4); // pipelined requests: rare, so not held by every connection
                }
                later.add(method);
            }
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // interim: the final response is still to come
            }
            HttpMethod method = next;
            next = later == null ? null : later.poll();
            if (later != null && later.isEmpty()) {
                later = null;
            }
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }
}
