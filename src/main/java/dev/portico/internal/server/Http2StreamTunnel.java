package dev.portico.internal.server;

import dev.portico.internal.proxy.TunnelStream;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;

/**
 * An {@link Http2StreamHost}'s stream as the client side of a WebSocket tunnel (RFC 8441) sees it: bytes out as DATA
 * frames on the connection, END_STREAM as an empty DATA frame, reading and writability the stream's own. All calls
 * on the connection's event loop.
 */
final class Http2StreamTunnel implements TunnelStream {
    private final Http2StreamHost host;
    private final Http2Streams streams;
    private final Http2FrameStream stream;

    Http2StreamTunnel(Http2StreamHost host, Http2Streams streams, Http2FrameStream stream) {
        this.host = host;
        this.streams = streams;
        this.stream = stream;
    }

    /**
     * A frame of the tunnel: DATA's bytes to its end, END_STREAM (on DATA or trailers) its FIN.
     *
     * @param f a DATA or HEADERS frame of the stream, released or handed on here
     * @param end the tunnel's end
     */
    static void deliver(Http2StreamFrame f, TunnelStream.End end) {
        boolean ended;
        if (f instanceof Http2DataFrame d) {
            ended = d.isEndStream();
            if (d.content().isReadable()) {
                end.bytes(d.content());
            } else {
                d.release();
            }
        } else {
            ended = f instanceof Http2HeadersFrame h && h.isEndStream();
            ReferenceCountUtil.release(f); // trailers carry nothing for the tunnel
        }
        if (ended) {
            end.ended();
        }
    }

    @Override
    public Channel connection() {
        return streams.context().channel();
    }

    @Override
    public void writeHead(Http2HeadersFrame head) {
        host.frame(head, null);
        flush();
    }

    @Override
    public void writeData(ByteBuf bytes) {
        host.frame(new DefaultHttp2DataFrame(bytes, false), null);
    }

    @Override
    public ChannelFuture endData() {
        ChannelPromise promise = streams.context().newPromise();
        host.frame(new DefaultHttp2DataFrame(true), promise);
        flush();
        return promise;
    }

    @Override
    public void flush() {
        streams.context().flush();
    }

    @Override
    public boolean reading() {
        return host.reading();
    }

    @Override
    public void reading(boolean on) {
        host.reading(on);
    }

    @Override
    public boolean writable() {
        return streams.writable(stream);
    }

    @Override
    public boolean active() {
        return host.streamActive();
    }

    @Override
    public void reset() {
        host.closeStream();
    }

    @Override
    public void attach(TunnelStream.End end) {
        host.attach(end);
    }
}
