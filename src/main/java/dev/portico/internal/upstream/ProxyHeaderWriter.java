package dev.portico.internal.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import java.net.SocketAddress;

/**
 * Writes a {@link ProxyHeader} as the first bytes of a backend connection, then leaves the pipeline with its
 * encoder. It sits in front of TLS, so the header precedes the ClientHello as the PROXY protocol requires.
 */
final class ProxyHeaderWriter extends ChannelOutboundHandlerAdapter {
    private final ProxyHeader header;

    private ProxyHeaderWriter(ProxyHeader header) {
        this.header = header;
    }

    /** Puts the encoder and the writer first in {@code ch}'s pipeline (before TLS, if any). */
    static void install(Channel ch, ProxyHeader header) {
        ch.pipeline().addFirst(new ProxyHeaderWriter(header));
        ch.pipeline().addFirst(HAProxyMessageEncoder.INSTANCE);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local, ChannelPromise promise) {
        // The connect promise's listeners (the pool's, which sends the request) run before channelActive (where TLS
        // starts its handshake): the header goes out before either, as the connect completes.
        ChannelPromise connected = ctx.newPromise();
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            ctx.write(header.message(), ctx.voidPromise());
            ctx.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
            ctx.pipeline().remove(this);
            promise.trySuccess();
        });
        ctx.connect(remote, local, connected);
    }
}
