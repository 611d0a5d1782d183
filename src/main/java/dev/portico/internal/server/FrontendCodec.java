package dev.portico.internal.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;

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
 * <p>Memory: every open connection holds its codec, so it is one stage (not a {@code CombinedChannelDuplexHandler}
 * of two, which costs three more objects per connection), it tells the frontend handler, if it has one, when bytes
 * arrive (the request head deadline starts with a request's first byte) and when a response is written (the idle
 * timer) instead of two more stages doing that, and while the connection is idle it holds neither decoder nor
 * encoder ({@link #shrink}): they are made again when the next request's bytes arrive. It keeps no context of its
 * own either: the one caller of {@link #shrink} looks it up.
 */
final class FrontendCodec extends ChannelDuplexHandler {
    /** The message of the failure set on a request with obs-fold. */
    static final String OBS_FOLD = "obs-fold in request head";
    /** The message of the failure set on a head with more than one Content-Length field, or a list in one. */
    static final String MANY_LENGTHS = "more than one Content-Length value";
    /** The message of the failure set on a request line with other separators than single spaces. */
    static final String BAD_REQUEST_LINE = "request line not in the form: method SP target SP HTTP/x.y";
    /** The message of the failure set on a chunked body with a malformed chunk extension. */
    static final String BAD_CHUNK_EXT = "malformed chunk extension";

    /** The decoder settings, shared by the listener's connections. */
    private final HttpDecoderConfig config;
    /** Told of the bytes read and the responses written; {@code null} for a codec on its own (tests). */
    private final FrontendHandler frontend;
    /** Made with the first bytes, dropped while idle. */
    private FrontendDecoder decoder;
    /** Made with the first response, dropped while idle. */
    private Encoder encoder;
    /** The method of the oldest request not answered yet, and those of the pipelined ones after it, if any. */
    private HttpMethod next;
    private ArrayDeque<HttpMethod> later;

    /** A codec on its own, for tests. */
    FrontendCodec(HttpDecoderConfig config) {
        this(config, null);
    }

    /** @param frontend the connection's handler, told of bytes read and responses written */
    FrontendCodec(HttpDecoderConfig config, FrontendHandler frontend) {
        this.config = config;
        this.frontend = frontend;
    }

    /** Leaves the pipeline (an upgrade): bytes the decoder holds go on to the stages behind, as Netty's do. */
    @Override
    public void handlerRemoved(ChannelHandlerContext context) throws Exception {
        FrontendDecoder d = decoder;
        decoder = null;
        encoder = null;
        if (d != null) {
            d.handlerRemoved(context);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) throws Exception {
        if (frontend != null) {
            frontend.onBytes();
        }
        if (decoder == null) {
            decoder = new FrontendDecoder(config, this);
        }
        decoder.channelRead(context, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) throws Exception {
        if (decoder != null) {
            decoder.channelReadComplete(context);
        } else {
            context.fireChannelReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        if (decoder != null) {
            decoder.channelInactive(context);
        } else {
            context.fireChannelInactive();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object evt) throws Exception {
        if (decoder != null) {
            decoder.userEventTriggered(context, evt);
        } else {
            context.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void write(ChannelHandlerContext context, Object msg, ChannelPromise promise) throws Exception {
        if (frontend != null) {
            frontend.active();
        }
        if (encoder == null) {
            encoder = new Encoder(this);
        }
        encoder.write(context, msg, promise);
    }

    /**
     * The connection is idle: the decoder goes if it is between requests with nothing held, the encoder if no
     * response is owed. The next request's bytes, and its response, make new ones, which carry on the same.
     *
     * @param ctx the codec's context, or {@code null} if it is no longer in the pipeline
     */
    void shrink(ChannelHandlerContext ctx) {
        if (ctx == null || ctx.isRemoved()) {
            return;
        }
        if (decoder != null && decoder.betweenRequests()) {
            FrontendDecoder d = decoder;
            decoder = null;
            try {
                d.handlerRemoved(ctx); // frees its scratch buffer; it holds no bytes, so none go on
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
        if (encoder != null && next == null) {
            encoder = null; // between responses: Netty's encoder keeps no state from one to the next
        }
    }

    /** @return whether the codec holds a decoder or an encoder (which {@link #shrink} may drop) */
    boolean holding() {
        return decoder != null || encoder != null;
    }

    /** The decoder read a request head: its response is the next one not yet paired with a request. */
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

    private HttpMethod answered() {
        HttpMethod method = next;
        next = later == null ? null : later.poll();
        if (later != null && later.isEmpty()) {
            later = null;
        }
        return method;
    }

    /** Netty's response encoder, called with the codec's context, that knows which responses answer a HEAD. */
    static final class Encoder extends HttpResponseEncoder {
        private final FrontendCodec codec;

        Encoder(FrontendCodec codec) {
            this.codec = codec;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // interim: the final response is still to come
            }
            return HttpMethod.HEAD.equals(codec.answered()) || super.isContentAlwaysEmpty(msg);
        }
    }
}
