package dev.portico.internal.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where a TLS connection's protocol is chosen, once its handshake is over: by ALPN, HTTP/1.1 when
 * the client offered nothing. It then adds that protocol's stages behind the TLS stage and removes itself.
 */
final class FrontendProtocolNegotiator extends ApplicationProtocolNegotiationHandler {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final FrontendInitializer initializer;
    private final FrontendInitializer.Options options;
    /** Whether this connection's failed handshake was counted (a failure may arrive as an event and an exception). */
    private boolean failureCounted;

    /** The connection in the proxy's registry: it counts for the shutdown once it speaks HTTP. */
    private final ConnectionRegistry.Entry entry;

    FrontendProtocolNegotiator(FrontendInitializer initializer, FrontendInitializer.Options options,
                               ConnectionRegistry.Entry entry) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.initializer = initializer;
        this.options = options;
        this.entry = entry;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        initializer.runtime().metrics().tlsHandshake(true);
        entry.serving();
        if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
            configureHttp1(ctx, tlsSummary(ctx));
        } else if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            configureHttp2(ctx, tlsSummary(ctx));
        } else {
            LOG.debug("{} unexpected application protocol {}: closing", ctx.channel().id().asShortText(), protocol);
            ctx.close();
        }
    }

    /** HTTP/1.1 over TLS: the same stages as a plain listener, told the connection's TLS version and cipher. */
    private void configureHttp1(ChannelHandlerContext ctx, String tls) {
        initializer.addHttp1(ctx.channel(), tls, options);
        // The new stages missed the connection's start, which passed before the handshake: replay it to them.
        ctx.fireChannelActive();
    }

    /** HTTP/2 over TLS: the same stages as an h2c connection; each stream reads the TLS details from here. */
    private void configureHttp2(ChannelHandlerContext ctx, String tls) {
        Http2Frontend.configure(ctx.pipeline(), initializer.runtime());
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        countFailure();
        // Scanners, old clients and clients without a certificate fail here all day: not worth a warning.
        LOG.debug("{} TLS handshake failed: {}", ctx.channel().id().asShortText(), cause.toString());
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        countFailure(); // no protocol chosen yet: what failed is the handshake (bytes that are not TLS, say)
        LOG.debug("{} TLS connection failed before a protocol was chosen: {}", ctx.channel().id().asShortText(),
                cause.toString());
        ctx.close();
    }

    private void countFailure() {
        if (!failureCounted) {
            failureCounted = true;
            initializer.runtime().metrics().tlsHandshake(false);
        }
    }

    /** @return the version and cipher suite, e.g. {@code TLSv1.3 TLS_AES_128_GCM_SHA256}, for the access log */
    private static String tlsSummary(ChannelHandlerContext ctx) {
        return tlsSummary(ctx.pipeline().get(SslHandler.class));
    }

    /** @return the version and cipher suite of {@code ssl}'s session, {@code "-"} if there is none */
    static String tlsSummary(SslHandler ssl) {
        if (ssl == null) {
            return "-";
        }
        SSLSession session = ssl.engine().getSession();
        return session.getProtocol() + " " + session.getCipherSuite();
    }
}
