package dev.portico.internal.server;

import dev.portico.internal.http.HeaderNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@link FrontendCodec}'s decoder: Netty's request decoder, and the rules it checks on top on the head's bytes as
 * they are consumed (see there). Not a stage of its own: the codec calls it with its own context, and drops it
 * while the connection is idle.
 */
final class FrontendDecoder extends HttpRequestDecoder {
    private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_SLASH = {'H', 'T', 'T', 'P', '/'};

    private final FrontendCodec codec;
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

    /** A request or its body failed to decode: the decoder stays (it discards what follows). */
    private boolean failed;

    /** @param codec the stage that has this decoder, which pairs responses with requests */
    FrontendDecoder(HttpDecoderConfig config, FrontendCodec codec) {
        super(config);
        this.maxHeaderSize = config.getMaxHeaderSize();
        this.codec = codec;
    }

    @Override
    protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
        AsciiString common = HeaderNames.lookup(sb, start, length);
        return common != null ? common : super.splitHeaderName(sb, start, length);
    }

    /**
     * Whether the decoder is between requests with nothing held: the last request read in full and well-formed,
     * no byte of the next one consumed or buffered. A new decoder would then carry on the same.
     */
    boolean betweenRequests() {
        return inHead && !lineStarted && !broken && !failed && !internalBuffer().isReadable();
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
                codec.expect(request.method());
                if (request.decoderResult().isSuccess()) {
                    if (headerBytes > maxHeaderSize) {
                        request.setDecoderResult(DecoderResult.failure(new TooLongHttpHeaderException(
                                "header section over " + maxHeaderSize + " bytes")));
                    } else if (malformed != null) {
                        request.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(malformed)));
                    }
                }
                failed |= !request.decoderResult().isSuccess();
                inHead = false;
                chunkedBody = request.decoderResult().isSuccess() && HttpUtil.isTransferEncodingChunked(request);
                chunks = chunkedBody ? new ChunkLineScanner() : null;
                resetHeadState();
            }
            if (msg instanceof LastHttpContent) {
                failed |= !((LastHttpContent) msg).decoderResult().isSuccess();
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
        end.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(FrontendCodec.BAD_CHUNK_EXT)));
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
                    malformed = FrontendCodec.OBS_FOLD;
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
                malformed = FrontendCodec.MANY_LENGTHS;
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
                        malformed = FrontendCodec.MANY_LENGTHS;
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
                    malformed = FrontendCodec.BAD_REQUEST_LINE;
                }
            }
            return;
        }
        if (b == '\t' || (b == ' ' && (!lineStarted || afterSpace))) {
            malformed = FrontendCodec.BAD_REQUEST_LINE;
        }
        lineStarted = true;
        if (b == ' ') {
            spaces++;
            afterSpace = true;
            return;
        }
        afterSpace = false;
        if (spaces == 2 && versionBytes < HTTP_SLASH.length && b != HTTP_SLASH[versionBytes++]) {
            malformed = FrontendCodec.BAD_REQUEST_LINE;
        }
    }
}
