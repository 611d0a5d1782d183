package dev.portico.internal.server;

import dev.portico.config.Cidr;
import dev.portico.internal.policy.ClientAddress;
import dev.portico.internal.upstream.ProxyHeader;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front of a {@code proxy_protocol: true} listener's pipeline: the connection must come from a trusted proxy
 * and open with a PROXY protocol header (v1 or v2, decoded by Netty's {@link HAProxyMessageDecoder}); the header's
 * source address becomes the connection's client address. Anything else is closed before a byte is read as HTTP
 * or TLS. A {@code LOCAL} header (a load balancer's health check) keeps the peer's address.
 */
final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
    /** The client address and port a PROXY header named, on the connection's channel. */
    static final AttributeKey<InetSocketAddress> SOURCE = AttributeKey.valueOf("portico.proxyProtocolSource");
    /** The address the client connected to, as the PROXY header named it, on the connection's channel. */
    static final AttributeKey<InetSocketAddress> DESTINATION =
            AttributeKey.valueOf("portico.proxyProtocolDestination");
    private static final Logger LOG = LoggerFactory.getLogger(ProxyProtocolHandler.class);

    private final List<Cidr> trusted;

    ProxyProtocolHandler(List<Cidr> trusted) {
        this.trusted = trusted;
    }

    /** Puts the decoder and this handler first in {@code ch}'s pipeline. */
    static void install(Channel ch, List<Cidr> trusted) {
        ch.pipeline().addFirst(new HAProxyMessageDecoder(), new ProxyProtocolHandler(trusted));
    }

    /** @return the client address of a connection: the PROXY header's source if it had one, else its peer */
    static InetAddress clientAddress(Channel ch) {
        InetSocketAddress source = ch.hasAttr(SOURCE) ? ch.attr(SOURCE).get() : null;
        if (source != null) {
            return source.getAddress();
        }
        return ch.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : InetAddress.getLoopbackAddress();
    }

    /**
     * The header to open backend connections with for an upstream with {@code send_proxy_protocol}: what this
     * connection's own PROXY header said (a load balancer in front), else its sockets' addresses.
     *
     * @param ch the client connection (the HTTP/2 connection, not a stream)
     * @param client the request's client, which {@code trusted_proxies} may have taken from {@code X-Forwarded-For}
     * @param v2 the binary form rather than the text form
     * @return the header; the source port is 0 when the client is not the connection's own source
     */
    static ProxyHeader outbound(Channel ch, InetAddress client, boolean v2) {
        InetSocketAddress source = ch.hasAttr(SOURCE) ? ch.attr(SOURCE).get() : null;
        if (source == null) {
            source = ch.remoteAddress() instanceof InetSocketAddress a ? a : null;
        }
        int port = source != null && source.getAddress().equals(client) ? source.getPort() : 0;
        InetSocketAddress destination = ch.hasAttr(DESTINATION) ? ch.attr(DESTINATION).get() : null;
        if (destination == null) {
            destination = ch.localAddress() instanceof InetSocketAddress a ? a
                    : new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        }
        return new ProxyHeader(v2, new InetSocketAddress(client, port), destination);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive(); // the stages behind count the connection, and its close
        InetAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        if (peer == null || !ClientAddress.isTrusted(peer, trusted)) {
            LOG.warn("closed a connection from {}: the PROXY protocol is accepted from trusted_proxies only", peer);
            ctx.channel().config().setAutoRead(false);
            ctx.close();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage m)) {
            ctx.fireChannelRead(msg); // bytes after the header: the decoder has removed itself
            return;
        }
        try {
            if (m.command() == HAProxyCommand.PROXY && m.sourceAddress() != null) {
                InetAddress source = Cidr.numeric(m.sourceAddress());
                if (source == null) {
                    LOG.warn("closed a connection from {}: PROXY header with source {}",
                            ctx.channel().remoteAddress(), m.sourceAddress());
                    ctx.close();
                    return;
                }
                ctx.channel().attr(SOURCE).set(new InetSocketAddress(source, m.sourcePort()));
                InetAddress destination = m.destinationAddress() == null ? null
                        : Cidr.numeric(m.destinationAddress());
                if (destination != null) {
                    ctx.channel().attr(DESTINATION).set(new InetSocketAddress(destination, m.destinationPort()));
                }
            }
        } finally {
            ReferenceCountUtil.release(m);
        }
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("closed a connection from {}: no valid PROXY protocol header ({})", ctx.channel().remoteAddress(),
                cause.getMessage());
        ctx.close();
    }
}
