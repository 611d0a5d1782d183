package dev.portico.internal.server;

import dev.portico.config.LimitsConfig;
import dev.portico.config.ProxyConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.portico.internal.tls.ServerTls;
import dev.portico.internal.tls.TlsHandshakeTimeout;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Assembles a client connection's pipeline: the codec with the configured limits and the handler (which keeps the
 * idle timer).
 * On a TLS listener these come after the handshake, behind the TLS stage, once {@link FrontendProtocolNegotiator}
 * has chosen the protocol.
 */
final class FrontendInitializer extends ChannelInitializer<Channel> {
    /** The listener's redirect to HTTPS, on a connection of a {@code redirect_https} listener. */
    static final io.netty.util.AttributeKey<HttpsRedirect> REDIRECT =
            io.netty.util.AttributeKey.valueOf("portico.redirect");
    /** Body chunks are cut at this size, so one chunk never needs more than this much memory. */
    static final int MAX_CHUNK = 64 * 1024;

    private final ProxyRuntime runtime;
    /** What the listener speaks; a reload that keeps the listener's socket may change it for new connections. */
    private volatile Options options;
    /** Open connections of this listener; accepts run on several event loops, hence atomic (once per connection). */
    private final AtomicInteger open = new AtomicInteger();
    /** The listener's HTTP/3 endpoint ({@code http3: true} and QUIC could start), else {@code null}. */
    private volatile Http3Listener http3;
    /** The decoder settings of the configuration in use; accepts on several event loops may race to make them. */
    private volatile DecoderSettings decoderSettings;

    /**
     * What a listener speaks.
     *
     * @param tls the listener's TLS, or {@code null} for plain HTTP
     * @param redirect where a {@code redirect_https} listener sends clients, else {@code null}
     * @param h2c whether cleartext HTTP/2 is spoken too
     */
    record Options(ServerTls tls, HttpsRedirect redirect, boolean h2c, boolean proxyProtocol) {
    }

    FrontendInitializer(ProxyRuntime runtime, Options options) {
        this.runtime = runtime;
        this.options = options;
    }

    Options options() {
        return options;
    }

    /** @param endpoint the listener's HTTP/3 endpoint, advertised on the responses of connections accepted next */
    void http3(Http3Listener endpoint) {
        http3 = endpoint;
    }

    /** @param next what connections accepted from now on speak; open ones keep theirs */
    void options(Options next) {
        options = next;
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

    /** The decoder settings for {@code limits}: one object for the connections of a configuration, not each. */
    private HttpDecoderConfig sharedDecoderConfig(LimitsConfig limits) {
        DecoderSettings d = decoderSettings;
        if (d == null || !d.limits().equals(limits)) {
            d = new DecoderSettings(limits, decoderConfig(limits));
            decoderSettings = d;
        }
        return d.config();
    }

    /** Decoder settings and the limits they were made of. */
    private record DecoderSettings(LimitsConfig limits, HttpDecoderConfig config) {
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
        Options o = options;
        // In the proxy's registry (this listener's drain, the proxy's shutdown) until it closes, which counts it
        // out of open; a TLS connection counts for the shutdown once its handshake is done.
        ConnectionRegistry.Entry entry = runtime.connections().add(ch, this, o.tls() == null);
        if (o.redirect() != null) {
            ch.attr(REDIRECT).set(o.redirect()); // for HTTP/2 streams, which admit requests on child channels
        }
        Http3Listener h3 = http3;
        if (h3 != null) {
            ch.attr(AltSvc.KEY).set(h3.altSvc()); // HTTP/1.1 and HTTP/2 (each stream) responses advertise HTTP/3
        }
        if (o.proxyProtocol()) {
            ProxyProtocolHandler.install(ch, config.policies().trustedProxies());
        }
        if (o.tls() != null) {
            ch.pipeline().addLast(o.tls().newHandler(),
                    new TlsHandshakeTimeout(config.timeouts().tlsHandshake().toMillis(),
                            () -> runtime.metrics().tlsHandshake(false)),
                    new FrontendProtocolNegotiator(this, o, entry));
        } else {
            addHttp1(ch, null, o);
        }
    }

    /**
     * Adds the HTTP/1.1 stages at the end of the pipeline.
     *
     * @param ch the client channel
     * @param tlsSummary the TLS version and cipher for the access log, or {@code null} on a plain listener
     * @param o the listener's options when the connection was accepted
     */
    void addHttp1(Channel ch, String tlsSummary, Options o) {
        ProxyConfig config = runtime.snapshot().config;
        FrontendHandler handler = new FrontendHandler(runtime, tlsSummary, o.redirect());
        FrontendCodec codec = new FrontendCodec(sharedDecoderConfig(config.limits()), handler);
        handler.codec(codec);
        ch.pipeline().addLast(codec);
        // hasAttr first: attr() would create (and keep, for the connection's life) an empty attribute.
        AltSvc altSvc = ch.hasAttr(AltSvc.KEY) ? ch.attr(AltSvc.KEY).get() : null;
        if (altSvc != null) {
            ch.pipeline().addLast(altSvc);
        }
        ch.pipeline().addLast(handler); // which keeps the idle timer
        if (o.h2c()) {
            H2c.install(ch.pipeline(), runtime, handler);
        }
    }

    /** One of this listener's connections closed. */
    void closed() {
        open.decrementAndGet();
    }

    /** The listener was removed: each connection closes once idle (see {@link FrontendHandler#drain()}). */
    void drain() {
        Http3Listener h3 = http3;
        if (h3 != null) {
            h3.drain();
        }
        for (Channel ch : runtime.connections().of(this)) {
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

    /** Closes the listener's HTTP/3 socket, if it has one, and its QUIC connections. */
    void closeHttp3() {
        Http3Listener h3 = http3;
        if (h3 != null) {
            h3.close();
        }
    }

    /** Closes what is left of this listener's connections. */
    void closeAll() {
        closeHttp3();
        runtime.connections().of(this).forEach(Channel::close);
    }
}
