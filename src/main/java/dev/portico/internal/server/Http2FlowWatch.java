package dev.portico.internal.server;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * Between the frame codec and the multiplexer of an HTTP/2 connection: tells each stream when its send window
 * opens or shuts. A stream channel's own writability counts only the bytes it has queued, and the multiplexer drops
 * the flow controller's writability events; without them a stream would keep reading its backend while the client
 * grants no window, and hold what it read. It also closes the streams it watches when the connection closes:
 * Netty leaves a stream that is not reading (its backend is slow) open with its received frames queued, and closing
 * it ends its exchange and releases them. A stream is watched until its channel closes (this watch is the one
 * listener on its close, for all of the connection's streams). All calls on the connection's event loop.
 */
final class Http2FlowWatch extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
    private final Http2FrameCodec codec;
    private final Map<Http2FrameStream, Http2StreamHandler> streams = new HashMap<>();
    /** The codec's connection and its send-side flow controller, looked up once: asked on every response head. */
    private Http2Connection connection;
    private Http2RemoteFlowController flow;

    Http2FlowWatch(Http2FrameCodec codec) {
        this.codec = codec;
    }

    /**
     * @param stream a stream channel of this connection, watched until it closes
     * @param handler its exchange host, told of its send window and closed with the connection
     */
    void watch(Http2StreamChannel stream, Http2StreamHandler handler) {
        streams.put(stream.stream(), handler);
        stream.closeFuture().addListener(this);
    }

    /** A watched stream closed. */
    @Override
    public void operationComplete(ChannelFuture closed) {
        streams.remove(((Http2StreamChannel) closed.channel()).stream());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!streams.isEmpty()) {
            for (Http2StreamHandler h : new ArrayList<>(streams.values())) { // closing one unwatches it
                h.connectionClosed();
            }
        }
        ctx.fireChannelInactive();
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
