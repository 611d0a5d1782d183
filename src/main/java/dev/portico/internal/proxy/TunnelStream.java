package dev.portico.internal.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http2.Http2HeadersFrame;

/**
 * An HTTP/2 client stream kept as state on its connection (not a channel of its own), as the client side of a
 * {@link Tunnel} sees it after an RFC 8441 extended CONNECT: bytes out as DATA frames, reading that follows the
 * stream's flow-control window, its END_STREAM and its reset. All calls on the connection's event loop.
 */
public interface TunnelStream {
    /** @return the connection the stream belongs to (its event loop and id) */
    Channel connection();

    /**
     * Writes the answer that opens the tunnel, and flushes it.
     *
     * @param head the HEADERS frame (200 for an extended CONNECT), without its stream
     */
    void writeHead(Http2HeadersFrame head);

    /** @param bytes bytes for the client, sent as a DATA frame (no flush) */
    void writeData(ByteBuf bytes);

    /** @return the write of the stream's END_STREAM (an empty DATA frame), flushed */
    ChannelFuture endData();

    /** Flushes what was written. */
    void flush();

    /** @return whether the client's DATA is read now */
    boolean reading();

    /** @param on whether to read the client's DATA (a stream not read returns no window, so the client stops) */
    void reading(boolean on);

    /** @return whether the client can take more now: the stream's send window and the connection's writability */
    boolean writable();

    /** @return whether the stream is still open */
    boolean active();

    /** Closes the stream; one not yet ended is reset (RST_STREAM CANCEL). */
    void reset();

    /** @param end the tunnel's end, told of the stream's frames and events from now on */
    void attach(End end);

    /** What the stream tells the tunnel's end. */
    interface End {
        /** @param bytes a DATA frame's bytes (the end owns them) */
        void bytes(ByteBuf bytes);

        /** The connection's read that brought bytes is over. */
        void readDone();

        /** The client ended its side of the stream (END_STREAM): its FIN. */
        void ended();

        /** The stream's send window or the connection's writability changed. */
        void windowChanged();

        /** The stream closed (reset, or the connection closed). */
        void streamClosed();
    }
}
