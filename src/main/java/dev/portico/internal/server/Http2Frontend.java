package dev.portico.internal.server;

import dev.portico.config.Http2Config;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * HTTP/2 on a client connection: Netty's frame codec with the {@code http2} limits, the connection's streams as
 * state on one handler ({@link Http2Streams}, no channel per stream), and a guard against control-frame floods. Each
 * stream is an HTTP/1.1 exchange to the backend (the same routing, header rules and backpressure as HTTP/1.1), its
 * reads following the stream's flow control window.
 */
public final class Http2Frontend {
    private Http2Frontend() {
    }

    /**
     * Installs HTTP/2 at the end of a connection's pipeline, for a connection known to speak it (prior knowledge
     * seen, or ALPN chose {@code h2}). Whatever precedes (say, TLS) stays; the HTTP/1.1 handlers Portico installs
     * ({@link FrontendInitializer}'s) are removed if they are there.
     *
     * @param pipeline the client connection's pipeline; the client's first bytes must not have been consumed
     * @param runtime the running proxy
     */
    public static void configure(ChannelPipeline pipeline, ProxyRuntime runtime) {
        H2c.removeHttp1(pipeline);
        H2c.removeIfPresent(pipeline, H2c.UpgradeHandler.class);
        Http2FrameCodec codec = codec(runtime.config().http2(), runtime);
        // Before the codec, so header blocks are seen as they begin, and every close the codec asks for lingers.
        pipeline.addLast(beforeCodec(runtime));
        pipeline.addLast(codec);
        pipeline.addLast(connectionHandlers(runtime, codec, true));
        runtime.connectionOpened(pipeline.channel());
    }

    /**
     * @return the upgrade codec for {@code Upgrade: h2c} on a cleartext HTTP/1.1 connection, whose upgrading
     *     request is its first stream; the stages before the codec are {@link #beforeCodec}'s
     */
    static Http2ServerUpgradeCodec upgradeCodec(ProxyRuntime runtime) {
        Http2FrameCodec codec = codec(runtime.config().http2(), runtime);
        return new Http2ServerUpgradeCodec(codec, connectionHandlers(runtime, codec, false));
    }

    /**
     * @return the stages right before the codec: header blocks watched, the connection's close a lingering one, and
     *     flushes consolidated. Each stream's response ends in a flush of the connection, so without the last stage
     *     every response of a multiplexed connection would be a TLS record and a system call of its own; with it, a
     *     flush outside a read of this connection is done once, at the end of the event loop's current round, for
     *     all the responses that round wrote. During a read, flushes wait for the read's end; those Netty's codec
     *     and multiplexer make at the read's end (acknowledgements, WINDOW_UPDATE, resets) leave one task later,
     *     still in the same round. Control frames count against {@code max_queued_control_frames} until they
     *     leave, so that limit also covers the frames of one round.
     */
    static ChannelHandler[] beforeCodec(ProxyRuntime runtime) {
        return new ChannelHandler[] {
            new Http2Deadlines.HeaderBlockWatch(),
            lingeringClose(runtime),
            new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true)
        };
    }

    private static LingeringClose lingeringClose(ProxyRuntime runtime) {
        return new LingeringClose(runtime.config().timeouts().idle().toMillis());
    }

    private static ChannelHandler[] connectionHandlers(ProxyRuntime runtime, Http2FrameCodec codec,
                                                       boolean firstHead) {
        return new ChannelHandler[] {
            new Http2Deadlines(runtime, codec, firstHead),
            new Http2Streams(runtime, codec),
            new Http2ConnectionGuard(runtime.config().http2())
        };
    }

    static Http2FrameCodec codec(Http2Config c, ProxyRuntime runtime) {
        Http2Settings settings = Http2Settings.defaultSettings()
                .maxConcurrentStreams(c.maxConcurrentStreams())
                .maxHeaderListSize(c.maxHeaderListSize())
                .connectProtocolEnabled(true); // RFC 8441: WebSocket over a stream by extended CONNECT
        return new Http2CodecBuilder()
                .initialSettings(settings)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(c.maxResets(), (int) c.resetWindow().toSeconds())
                .encoderEnforceMaxRstFramesPerWindow(c.maxResets(), (int) c.resetWindow().toSeconds())
                .decoderEnforceMaxSmallContinuationFrames(c.maxSmallContinuationFrames())
                .encoderEnforceMaxQueuedControlFrames(c.maxQueuedControlFrames())
                .gracefulShutdownTimeoutMillis(runtime.config().timeouts().drain().toMillis())
                .frameLogger(new Http2FrameMeter(c.maxControlFramesPerSecond()))
                .headerSensitivityDetector(new UniqueValues(runtime))
                .build();
    }

    /** @return whether the channel is an HTTP/2 connection set up by {@link #configure} or an h2c upgrade */
    static boolean isHttp2(Channel ch) {
        return ch.pipeline().get(Http2ConnectionGuard.class) != null;
    }
}
