package dev.portico.internal.server;

import dev.portico.internal.upstream.IdleTimer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Cleartext HTTP/2 on a listener with {@code h2c: true}: a connection that opens with the HTTP/2 preface (prior
 * knowledge) is handed to {@link Http2Frontend}; an HTTP/1.1 request with {@code Upgrade: h2c} (RFC 7540 section
 * 3.2) is answered 101 and becomes stream 1 of an HTTP/2 connection. Only the first request may upgrade, and only
 * a bodiless one that passes {@link RequestValidator}; any other h2c upgrade is served as HTTP/1.1 with the
 * header dropped.
 */
final class H2c {
    private static final AsciiString H2C = AsciiString.cached("h2c");

    private H2c() {
    }

    /** Puts the preface detector first and the upgrade handler before {@code frontend}. */
    static void install(ChannelPipeline p, ProxyRuntime runtime, FrontendHandler frontend) {
        p.addFirst(new PrefaceDetector(runtime));
        p.addBefore(p.context(frontend).name(), null, new UpgradeHandler(runtime));
        p.addBefore(p.context(frontend).name(), null, new FullRequestSplitter());
    }

    /**
     * Removes the HTTP/1.1 handlers but the upgrade handler (which removes itself once it upgraded); what precedes
     * them (TLS, say) stays.
     */
    static void removeHttp1(ChannelPipeline p) {
        removeIfPresent(p, FullRequestSplitter.class);
        removeIfPresent(p, FrontendHandler.class);
        removeIfPresent(p, IdleTimer.class); // it counts every byte: HTTP/2 has deadlines of its own
        removeIfPresent(p, FrontendCodec.class);
    }

    static void removeIfPresent(ChannelPipeline p, Class<? extends ChannelHandler> type) {
        if (p.get(type) != null) {
            p.remove(type);
        }
    }

    /** Waits for the first bytes: the HTTP/2 preface switches the connection to HTTP/2, anything else leaves it. */
    static final class PrefaceDetector extends ByteToMessageDecoder {
        private final ProxyRuntime runtime;

        PrefaceDetector(ProxyRuntime runtime) {
            this.runtime = runtime;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
            try {
                int n = Math.min(in.readableBytes(), preface.readableBytes());
                boolean matches = ByteBufUtil.equals(in, in.readerIndex(), preface, 0, n);
                if (matches && n < preface.readableBytes()) {
                    return; // a prefix of the preface so far: wait for more
                }
                ChannelPipeline p = ctx.pipeline();
                if (matches) {
                    Http2Frontend.configure(p, runtime);
                }
                p.remove(this); // the bytes held here go on to whichever protocol is installed
            } finally {
                preface.release();
            }
        }
    }

    /** Netty's h2c upgrade, limited to the first request and to requests that are safe to turn into a stream. */
    static final class UpgradeHandler extends HttpServerUpgradeHandler {
        private final ProxyRuntime runtime;
        /** The first request head went by; from the second on, everything passes untouched (never upgraded). */
        private boolean seenFirst;
        private boolean passAll;

        UpgradeHandler(ProxyRuntime runtime) {
            super(ctx -> {
                removeHttp1(ctx.pipeline());
                // Right before the HTTP/2 codec, which goes behind this handler (then removed).
                for (ChannelHandler h : Http2Frontend.beforeCodec(runtime)) {
                    ctx.pipeline().addBefore(ctx.name(), null, h);
                }
            },
                    protocol -> H2C.contentEqualsIgnoreCase(protocol) ? Http2Frontend.upgradeCodec(runtime) : null,
                    0, true);
            this.runtime = runtime;
        }

        /**
         * A later request with {@code Upgrade: h2c} is served as HTTP/1.1 (the field is hop-by-hop and dropped):
         * upgrading it would answer 101 ahead of the responses still owed to the requests before it, which the
         * client would then never get.
         */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof HttpRequest) {
                passAll = seenFirst; // a second head: the first request, upgraded or not, is over
                seenFirst = true;
            }
            if (passAll) {
                ctx.fireChannelRead(msg);
            } else {
                super.channelRead(ctx, msg);
            }
        }

        @Override
        protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
            HttpHeaders h = req.headers();
            return req.decoderResult().isSuccess()
                    && h.containsValue(HttpHeaderNames.UPGRADE, H2C, true)
                    && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                    && h.containsValue(HttpHeaderNames.CONNECTION, Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER, true)
                    && h.getAll(Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER).size() == 1
                    && !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0
                    && RequestValidator.check(req, runtime.config().limits()) == null;
        }
    }

    /**
     * An upgrade request the upgrade handler aggregated but could not upgrade (say, a malformed HTTP2-Settings)
     * goes on as a head and an end, the parts {@link FrontendHandler} expects.
     */
    static final class FullRequestSplitter extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest full) {
                ctx.fireChannelRead(new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
                        full.headers()));
                ctx.fireChannelRead(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }
}
