package dev.portico.internal.balance;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslHandler;

/**
 * A health check of an endpoint that speaks HTTP/2 ({@code protocol: h2c}, or {@code h2}/{@code auto} when the
 * server chose {@code h2} in ALPN): the check's request goes on a stream of a connection of its own, and the probe
 * reads the answer as HttpObjects, as it does over HTTP/1.1.
 */
final class Http2Check {
    private Http2Check() {
    }

    /** Closes any stream the server opens (push is off). */
    @ChannelHandler.Sharable
    private static final class NoPush extends ChannelInboundHandlerAdapter {
        static final NoPush INSTANCE = new NoPush();

        @Override
        public void channelRegistered(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }

    /** @return whether a TLS connection's handshake chose h2 */
    static boolean choseH2(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        return tls != null && "h2".equals(tls.applicationProtocol());
    }

    /** Adds the client HTTP/2 stages to a connection (before it connects for h2c, after the handshake for h2). */
    static void addCodec(Channel ch) {
        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)).build(),
                new Http2MultiplexHandler(NoPush.INSTANCE));
    }

    /**
     * Sends the check's request on a new stream; the probe reads the answer.
     *
     * @param parent the HTTP/2 connection
     * @param request the request (a full one: it ends the stream)
     * @param probe the last stage of the stream's pipeline
     */
    static void send(Channel parent, HttpRequest request, ChannelHandler probe) {
        new Http2StreamChannelBootstrap(parent).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), probe);
            }
        }).open().addListener(f -> {
            if (f.isSuccess()) {
                ((Channel) f.getNow()).writeAndFlush(request);
            } else {
                parent.close();
            }
        });
    }
}
