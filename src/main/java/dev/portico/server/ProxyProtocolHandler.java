package dev.portico.server;

import dev.portico.config.Cidr;
import dev.portico.internal.policy.ClientAddress;
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
    /** The client address a PROXY header named, on the connection's channel. */
    static final AttributeKey<InetAddress> SOURCE = AttributeKey.valueOf("portico.proxyProtocolSource");
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
        InetAddress source = ch.attr(SOURCE).get();
        if (source != null) {
            return source;
        }
        return ch.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : InetAddress.getLoopbackAddress();
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
                ctx.channel().attr(SOURCE).set(source);
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
