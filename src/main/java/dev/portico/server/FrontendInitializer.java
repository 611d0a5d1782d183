package dev.portico.server;

import dev.portico.config.LimitsConfig;
import dev.portico.config.ProxyConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.portico.proxy.IdleTimer;
import dev.portico.tls.ServerTls;
import dev.portico.tls.TlsHandshakeTimeout;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Assembles a client connection's pipeline: byte watcher, codec with the configured limits, idle timer, handler.
 * On a TLS listener these come after the handshake, behind the TLS stage, once {@link FrontendProtocolNegotiator}
 * has chosen the protocol.
 */
final class FrontendInitializer extends ChannelInitializer<Channel> {
    /** Body chunks are cut at this size, so one chunk never needs more than this much memory. */
    static final int MAX_CHUNK = 64 * 1024;

    private final ProxyRuntime runtime;
    /** The listener's TLS, or {@code null} for plain HTTP. */
    private final ServerTls tls;
    /** Where a {@code redirect_https} listener sends clients, else {@code null}. */
    private final HttpsRedirect redirect;
    private final boolean h2c;
    /** Open connections of this listener; accepts run on several event loops, hence atomic (once per connection). */
    private final AtomicInteger open = new AtomicInteger();
    /** This listener's connections, so that removing the listener on reload drains just them. */
    private final ChannelGroup connections = new DefaultChannelGroup("listener", GlobalEventExecutor.INSTANCE);

    FrontendInitializer(ProxyRuntime runtime, ServerTls tls, HttpsRedirect redirect, boolean h2c) {
        this.runtime = runtime;
        this.tls = tls;
        this.redirect = redirect;
        this.h2c = h2c;
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

    ProxyRuntime runtime() {
        return runtime;
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
        if (tls != null) {
            ch.pipeline().addLast(tls.newHandler(),
                    new TlsHandshakeTimeout(config.timeouts().tlsHandshake().toMillis()),
                    new FrontendProtocolNegotiator(this));
        } else {
            addHttp1(ch, null);
        }
    }

    /**
     * Adds the HTTP/1.1 stages at the end of the pipeline.
     *
     * @param ch the client channel
     * @param tlsSummary the TLS version and cipher for the access log, or {@code null} on a plain listener
     */
    void addHttp1(Channel ch, String tlsSummary) {
        ProxyConfig config = runtime.snapshot().config;
        FrontendHandler handler = new FrontendHandler(runtime, tlsSummary, redirect);
        ch.pipeline().addLast(
                new ByteWatcher(handler),
                new FrontendCodec(decoderConfig(config.limits())),
                new IdleTimer(config.timeouts().idle().toMillis()),
                handler);
        if (h2c) {
            H2c.install(ch.pipeline(), runtime, handler);
        }
    }

    /** The listener was removed: each connection closes once idle (see {@link FrontendHandler#drain()}). */
    void drain() {
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                FrontendHandler h = ch.pipeline().get(FrontendHandler.class);
                if (h != null) {
                    h.drain();
                } else if (Http2Frontend.isHttp2(ch)) {
                    ch.close(); // GOAWAY; the connection closes once its open streams are done
                }
            });
        }
    }

    /** Closes what is left of this listener's connections. */
    void closeAll() {
        connections.close();
    }
}
