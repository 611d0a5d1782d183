package dev.portico.internal.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.HashMap;
import java.util.Map;

/**
 * Between the frame codec and the multiplexer of an HTTP/2 connection: tells each stream when its send window
 * opens or shuts. A stream channel's own writability counts only the bytes it has queued, and the multiplexer drops
 * the flow controller's writability events; without them a stream would keep reading its backend while the client
 * grants no window, and hold what it read. All calls on the connection's event loop.
 */
final class Http2FlowWatch extends ChannelInboundHandlerAdapter {
    private final Http2FrameCodec codec;
    private final Map<Http2FrameStream, Http2StreamHandler> streams = new HashMap<>();
    /** The codec's connection and its send-side flow controller, looked up once: asked on every response head. */
    private Http2Connection connection;
    private Http2RemoteFlowController flow;

    Http2FlowWatch(Http2FrameCodec codec) {
        this.codec = codec;
    }

    void watch(Http2FrameStream stream, Http2StreamHandler handler) {
        streams.put(stream, handler);
    }

    void unwatch(Http2FrameStream stream) {
        streams.remove(stream);
    }

    /**
     * @return whether the stream may send DATA now: window left on the stream and on the connection beyond what is
     *     queued, and the connection writable
     */
    boolean writable(Http2FrameStream stream) {
        if (connection == null) {
            connection = codec.connection();
            flow = connection.remote().flowController();
        }
        Http2Stream s = connection.stream(stream.id());
        return s == null || flow.isWritable(s);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e && e.type() == Http2FrameStreamEvent.Type.Writability) {
            Http2StreamHandler h = streams.get(e.stream());
            if (h != null) {
                h.sendWindowChanged();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }
}
