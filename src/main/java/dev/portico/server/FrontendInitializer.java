package dev.portico.server;

import dev.portico.config.LimitsConfig;
import dev.portico.config.ProxyConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.portico.proxy.IdleTimer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/** Assembles a client connection's pipeline: byte watcher, codec with the configured limits, idle timer, handler. */
final class FrontendInitializer extends ChannelInitializer<Channel> {
    /** Body chunks are cut at this size, so one chunk never needs more than this much memory. */
    static final int MAX_CHUNK = 64 * 1024;

    private final ProxyRuntime runtime;
    /** Open connections of this listener; accepts run on several event loops, hence atomic (once per connection). */
    private final AtomicInteger open = new AtomicInteger();
    /** This listener's connections, so that removing the listener on reload drains just them. */
    private final ChannelGroup connections = new DefaultChannelGroup("listener", GlobalEventExecutor.INSTANCE);

    FrontendInitializer(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    /** The strict decoder settings: RFC 9112 framing, CRLF-only lines, validated headers, the configured limits. */
    static HttpDecoderConfig decoderConfig(LimitsConfig limits) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength((int) limits.maxRequestLine())
                .setMaxHeaderSize((int) limits.maxHeaderSize())
                .setMaxChunkSize(MAX_CHUNK)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setValidateHeaders(true);
    }

    @Override
    protected void initChannel(Channel ch) {
        ProxyConfig config = runtime.snapshot().config;
        int max = config.limits().maxConnections();
        if (open.incrementAndGet() > max && max > 0) {
            open.decrementAndGet();
            runtime.logConnectionLimit(ch, max);
            ch.close();
            return;
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        connections.add(ch);
        FrontendHandler handler = new FrontendHandler(runtime);
        ch.pipeline().addLast(
                new ByteWatcher(handler),
                new FrontendCodec(decoderConfig(config.limits())),
                new IdleTimer(config.timeouts().idle().toMillis()),
                handler);
    }

    /** The listener was removed: each connection closes once idle (see {@link FrontendHandler#drain()}). */
    void drain() {
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                FrontendHandler h = ch.pipeline().get(FrontendHandler.class);
                if (h != null) {
                    h.drain();
                }
            });
        }
    }

    /** Closes what is left of this listener's connections. */
    void closeAll() {
        connections.close();
    }
}
