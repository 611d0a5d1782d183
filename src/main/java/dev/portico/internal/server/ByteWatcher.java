package dev.portico.internal.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A stage in front of the codec that tells the frontend handler when request bytes arrive, so the request head
 * deadline starts with the first byte of a request rather than when the previous response ended. The HTTP/1.1
 * pipeline no longer has it ({@link FrontendCodec} tells the handler itself, which saves every open connection a
 * handler and a pipeline context); the HTTP/2 switch still removes it if present.
 */
final class ByteWatcher extends ChannelInboundHandlerAdapter {
    private final FrontendHandler frontend;

    ByteWatcher(FrontendHandler frontend) {
        this.frontend = frontend;
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        frontend.onBytes();
        context.fireChannelRead(msg);
    }
}
