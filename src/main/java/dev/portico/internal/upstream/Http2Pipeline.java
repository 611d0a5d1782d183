package dev.portico.internal.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * The stages of an HTTP/2 backend connection: a flush consolidator, Netty's client frame codec, its multiplexer (one
 * child channel per stream) and the {@link Http2Parent}. Push is off, so the backend opens no stream of its own.
 */
final class Http2Pipeline {
    static final String PARENT = "h2-parent";
    private static final String CODEC = "h2-codec";
    private static final String MUX = "h2-mux";
    private static final String FLUSH = "h2-flush";
    /**
     * Each stream's receive window: what a backend may send ahead of a client that stopped reading. Bigger than the
     * 64 KiB default so that one stream fills a fast link, small enough that a stalled stream holds little.
     */
    static final int STREAM_WINDOW = 256 * 1024;
    /** The connection's receive window: streams stalled by slow clients must not hold up the others. */
    static final int CONNECTION_WINDOW = 16 * 1024 * 1024;

    private Http2Pipeline() {
    }

    /** Closes any stream the backend opens (it may not: SETTINGS_ENABLE_PUSH is 0). */
    @ChannelHandler.Sharable
    private static final class NoPush extends ChannelInboundHandlerAdapter {
        static final NoPush INSTANCE = new NoPush();

        @Override
        public void channelRegistered(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }

    private static Http2FrameCodec newCodec() {
        return Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                        .maxHeaderListSize(UpstreamPool.MAX_RESPONSE_HEAD).initialWindowSize(STREAM_WINDOW))
                .validateHeaders(true)
                .build();
    }

    /**
     * Before the codec: the streams' flushes outside a read of this connection are done once, at the end of the
     * event loop's current round, so the requests of several clients that arrive together leave in one write.
     */
    private static FlushConsolidationHandler newFlush() {
        return new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true);
    }

    /** A cleartext connection: every stage at once (prior knowledge: the preface goes out when it connects). */
    static void addLast(Channel ch, Http2Parent parent) {
        ch.pipeline().addLast(FLUSH, newFlush()).addLast(CODEC, newCodec())
                .addLast(MUX, new Http2MultiplexHandler(NoPush.INSTANCE)).addLast(PARENT, parent);
    }

    /** A TLS connection whose handshake chose h2: the consolidator, codec and multiplexer go in before the parent. */
    static void addBefore(Channel ch, Http2Parent parent) {
        ch.pipeline().addBefore(PARENT, FLUSH, newFlush()).addBefore(PARENT, CODEC, newCodec())
                .addBefore(PARENT, MUX, new Http2MultiplexHandler(NoPush.INSTANCE));
    }

    static Http2FrameCodec codec(Channel ch) {
        return (Http2FrameCodec) ch.pipeline().get(CODEC);
    }
}
