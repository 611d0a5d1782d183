package dev.portico.internal.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.http.HttpObject;

/**
 * The client connection as an exchange sees it. Implemented by the frontend handler; all calls on its event loop.
 */
public interface ExchangeHost {
    /**
     * @return the client connection's channel (its event loop, allocator and id); on HTTP/2 the connection the
     *     stream belongs to. Response parts go through {@link #write}, {@link #send} and {@link #flush}.
     */
    Channel clientChannel();

    /**
     * Writes a response part without a flush, and without telling anyone how the write ends.
     *
     * @param part a response head, body part or end (HTTP/1.1 objects; an HTTP/2 stream converts them to frames)
     */
    default void write(HttpObject part) {
        Channel ch = clientChannel();
        ch.write(part, ch.voidPromise());
    }

    /**
     * Writes a response part, flushed if {@code flush}.
     *
     * @param part a response part
     * @param flush whether to flush the connection after it
     * @return the write, complete once the part is on the wire (or lost)
     */
    default ChannelFuture send(HttpObject part, boolean flush) {
        Channel ch = clientChannel();
        return flush ? ch.writeAndFlush(part) : ch.write(part);
    }

    /** Flushes what was written to the client. */
    default void flush() {
        clientChannel().flush();
    }

    /**
     * @return the client's HTTP/2 stream for a tunnel's client end, when the stream is state on its connection
     *     rather than a channel ({@link #switchProtocols} then gets no handler); {@code null} otherwise
     */
    default TunnelStream tunnelStream() {
        return null;
    }

    /**
     * @return whether the client can take more response now; the backend is read only while it can. HTTP/2 adds the
     *     stream's send window and the connection's writability to the channel's own.
     */
    default boolean clientWritable() {
        return clientChannel().isWritable();
    }

    /** @return the proxy-wide count of response bytes written to clients and not yet sent */
    BufferBudget buffered();

    /** @return the number of the current request on this connection, from 1; for log lines */
    int requestNumber();

    /** @return the connection's TLS version and cipher suite for the access log, or {@code null} if it is plain */
    String tlsSummary();

    /** The exchange's appetite for request body changed: read from the client (or its backlog), or stop. */
    void updateReading();

    /**
     * @return whether the connection closes after the current response (the proxy is draining, or the connection
     *     served {@code limits.max_requests_per_connection})
     */
    boolean closeAfterResponse();

    /**
     * The exchange finished its response.
     *
     * @param exchange the exchange
     * @param lastWrite the write of the response's last part, if the connection closes after it; else {@code null}
     * @param keepAlive whether the client connection may serve another request
     */
    void exchangeDone(ProxyExchange exchange, ChannelFuture lastWrite, boolean keepAlive);

    /**
     * The exchange failed; the host answers the failure's status if no response began, and closes the connection.
     *
     * @param exchange the exchange
     * @param failure why it failed
     * @param responseStarted whether part of a response was already sent, so only a close can signal the error
     */
    void exchangeFailed(ProxyExchange exchange, ProxyFailure failure, boolean responseStarted);

    /**
     * The backend switched protocols (101) for the exchange's upgrade request, and the 101 was written: the host
     * stops serving HTTP on the client connection, putting {@code tunnelEnd} last in its pipeline in place of its
     * HTTP handlers (the decoder last, so bytes it still holds reach {@code tunnelEnd}). A host that cannot switch
     * (say, the client sent more before the 101) leaves {@code tunnelEnd} out, and both connections close.
     *
     * @param exchange the exchange
     * @param tunnelEnd the handler that carries the client's bytes from now on
     */
    void switchProtocols(ProxyExchange exchange, ChannelHandler tunnelEnd);
}
