package dev.portico.internal.proxy;

import dev.portico.internal.upstream.IdleTimer;
import dev.portico.internal.upstream.UpstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raw bytes both ways between a client and a backend connection after a protocol switch (101): two ends, each the
 * last stage of its connection's pipeline once the HTTP codecs are gone. Reads follow demand: an end stops reading
 * (AUTO_READ off) while its peer is not writable and starts again when the peer drains. Both connections share one
 * event loop, so nothing here needs a lock. A half-close is carried through (a client may send its last message and
 * shut its write side, then read the answer): one side's FIN becomes a FIN to the other once what was read is
 * written, and the other direction stays open until its own FIN. On TLS connections, where a close_notify ends
 * both directions, and on a reset or error, a close on either side closes the other once what was read is written.
 * {@code timeouts.tunnel_idle} without a byte either way closes both.
 *
 * <p>The client end may be an HTTP/2 stream (an RFC 8441 extended CONNECT): its DATA frames are the bytes (a
 * stage of the stream's pipeline turns them into buffers and back), END_STREAM is its FIN (RFC 8441 section 5,
 * so a half-close is carried through even over TLS), and its writability is the host's, which counts the stream's
 * send window: the backend is read only while the client grants window, and the client's window is only
 * replenished while the backend takes bytes.
 */
final class Tunnel {
    private static final Logger LOG = LoggerFactory.getLogger(Tunnel.class);

    private final End client;
    private final End upstream;
    private final long idleMillis;

    /**
     * @param clientChannel the client connection
     * @param upstreamChannel the backend connection, on the same event loop
     * @param idleMillis {@code timeouts.tunnel_idle}
     */
    Tunnel(Channel clientChannel, Channel upstreamChannel, long idleMillis) {
        this(clientChannel, clientChannel::isWritable, upstreamChannel, idleMillis);
    }

    /**
     * @param clientChannel the client connection or stream
     * @param clientWritable whether the client can take more now (for a stream: its send window too)
     * @param upstreamChannel the backend connection, on the same event loop
     * @param idleMillis {@code timeouts.tunnel_idle}
     */
    Tunnel(Channel clientChannel, BooleanSupplier clientWritable, Channel upstreamChannel, long idleMillis) {
        this(new End(clientChannel, clientWritable), new End(upstreamChannel, upstreamChannel::isWritable),
                idleMillis);
    }

    private Tunnel(End client, End upstream, long idleMillis) {
        this.client = client;
        this.upstream = upstream;
        this.idleMillis = idleMillis;
        client.peer = upstream;
        upstream.peer = client;
    }

    /**
     * Forwards the backend's 101 to the client, takes both connections out of HTTP and starts the flow.
     *
     * @param host the client connection
     * @param exchange the exchange that asked for the upgrade (done now)
     * @param conn its backend connection, which leaves the pool for good
     * @param response the backend's 101
     * @param idleMillis {@code timeouts.tunnel_idle}
     */
    static void open(ExchangeHost host, ProxyExchange exchange, UpstreamConnection conn, HttpResponse response,
                     long idleMillis) {
        TunnelStream frames = host.tunnelStream();
        if (frames != null) { // an HTTP/2 stream kept as state on its connection
            frames.writeHead(WebSocketUpgrade.streamResponse(response));
            Tunnel tunnel = new Tunnel(new StreamTunnelEnd(frames), new End(conn.channel(), conn.channel()::isWritable),
                    idleMillis);
            host.switchProtocols(exchange, null);
            conn.switchProtocols(tunnel.upstream);
            tunnel.start();
            return;
        }
        Channel client = host.clientChannel();
        boolean stream = client instanceof Http2StreamChannel;
        client.writeAndFlush(stream ? WebSocketUpgrade.streamResponse(response)
                : WebSocketUpgrade.clientResponse(response), client.voidPromise());
        Tunnel tunnel = stream ? new Tunnel(client, host::clientWritable, conn.channel(), idleMillis)
                : new Tunnel(client, conn.channel(), idleMillis);
        host.switchProtocols(exchange, tunnel.client);
        conn.switchProtocols(tunnel.upstream);
        tunnel.start();
    }

    /**
     * Starts the flow once both ends are installed and the HTTP codecs removed: bytes that arrived meanwhile go
     * out, and each side reads while its peer can take more. If either end was not installed (the client
     * connection could not switch), both connections close.
     */
    void start() {
        if (!client.installed() || !upstream.installed()) {
            client.close();
            upstream.close();
            return;
        }
        if (client.halfClosable() && upstream.halfClosable()) {
            // Per channel and set only now: HTTP connections close on a client's FIN as before.
            client.allowHalfClosure();
            upstream.allowHalfClosure();
        }
        client.start(idleMillis);
        upstream.start(idleMillis);
    }

    /**
     * One side of the tunnel: the last stage of its connection's (or HTTP/2 stream channel's) pipeline. Its I/O is
     * in a few methods, which {@link StreamTunnelEnd} does in frames for a stream kept as state on its connection.
     */
    static class End extends ChannelInboundHandlerAdapter {
        final Channel channel;
        /** Whether the channel can take more now, as its peer's reading sees it. */
        final BooleanSupplier writable;
        End peer;
        private ChannelHandlerContext ctx;
        /** Bytes read before {@link #start}: what the removed decoder still held. Owned until written. */
        ArrayDeque<ByteBuf> early;
        private boolean started;
        boolean closed;
        /** This side sent its FIN: it reads nothing more, and its peer's output was shut after the last byte. */
        private boolean inputEnded;
        boolean halfClosure;
        /** The write of this stream's END_STREAM, once sent: its close waits for it, or the frame would be lost. */
        ChannelFuture outputEnd;

        End(Channel channel, BooleanSupplier writable) {
            this.channel = channel;
            this.writable = writable;
        }

        /** @return whether this end is in place, its HTTP handlers gone */
        boolean installed() {
            return ctx != null && !ctx.isRemoved();
        }

        /** @return whether this side may be half-closed (an epoll connection is readied: {@link EpollHalfClosure}) */
        boolean halfClosable() {
            return channel instanceof Http2StreamChannel
                    || channel instanceof DuplexChannel && channel.pipeline().get(SslHandler.class) == null
                    && EpollHalfClosure.allow(channel);
        }

        /** Writes bytes this side's peer read, without a flush. */
        void out(ByteBuf bytes) {
            channel.write(bytes, channel.voidPromise());
        }

        void flushOut() {
            channel.flush();
        }

        boolean reading() {
            return channel.config().isAutoRead();
        }

        void reading(boolean on) {
            channel.config().setAutoRead(on);
            if (on && channel instanceof Http2StreamChannel s) {
                // Reading again may consume DATA queued on the stream outside its connection's read loop: Netty
                // writes the WINDOW_UPDATE then but leaves it unflushed, and the sender would wait.
                s.parent().flush();
            }
        }

        boolean open() {
            return channel.isActive();
        }

        /** Closes the channel now (a stream not yet ended is reset). */
        void closeNow() {
            channel.close();
        }

        /** @return the write of this side's END_STREAM, or {@code null} if it is not an HTTP/2 stream */
        ChannelFuture endStream() {
            return channel instanceof Http2StreamChannel ? channel.writeAndFlush(new DefaultHttp2DataFrame(true))
                    : null;
        }

        /** Times {@code timeouts.tunnel_idle} on this side. */
        void startIdle(long idleMillis) {
            ctx.pipeline().addBefore(ctx.name(), null, new IdleTimer(idleMillis));
        }

        void allowHalfClosure() {
            halfClosure = true;
            if (channel instanceof DuplexChannel) {
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            }
        }

        @Override
        public void handlerAdded(ChannelHandlerContext context) {
            ctx = context;
        }

        void start(long idleMillis) {
            started = true;
            startIdle(idleMillis);
            ByteBuf b;
            while (early != null && (b = early.poll()) != null) {
                peer.out(b);
            }
            peer.flushOut();
            if (!open()) {
                close(); // closed during the switch: channelInactive went to a handler that is gone
                return;
            }
            reading(peer.writable.getAsBoolean());
        }

        @Override
        public void channelRead(ChannelHandlerContext context, Object msg) {
            read(msg);
        }

        /** Bytes this side read. */
        void read(Object msg) {
            if (!(msg instanceof ByteBuf) || closed) {
                ReferenceCountUtil.release(msg); // e.g. the empty last content the decoder ends the 101 with
                return;
            }
            ByteBuf bytes = (ByteBuf) msg;
            if (!started) {
                if (early == null) {
                    early = new ArrayDeque<>(2);
                }
                early.add(bytes);
                return;
            }
            peer.out(bytes);
            if (!peer.writable.getAsBoolean()) {
                reading(false); // the peer is behind: stop reading this side
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext context) {
            readComplete();
        }

        void readComplete() {
            if (started) {
                peer.flushOut();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext context) {
            writabilityChanged();
            context.fireChannelWritabilityChanged();
        }

        /** This side may take more: its peer reads again. */
        void writabilityChanged() {
            if (started && writable.getAsBoolean() && !peer.closed && !peer.reading()) {
                peer.reading(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext context) {
            close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext context, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                inputEnded();
                return;
            }
            if (evt instanceof IdleStateEvent) {
                idle();
                return;
            }
            context.fireUserEventTriggered(evt);
        }

        /** Nothing moved either way for {@code timeouts.tunnel_idle}. */
        void idle() {
            LOG.debug("{} tunnel idle: closing", channel.id().asShortText());
            close();
            // Nothing moved either way: what the peer still holds will not leave (an END_STREAM behind a
            // stream's shut send window, say), so it closes now rather than after its writes.
            peer.closeNow();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            LOG.debug("{} tunnel connection error", context.channel().id().asShortText(), cause);
            close();
        }

        /** This side's FIN: the peer gets one after what was read; both close once both directions ended. */
        void inputEnded() {
            if (closed || inputEnded) {
                return;
            }
            inputEnded = true;
            if (peer.closed || !halfClosure) {
                close();
                return;
            }
            if (peer.inputEnded) {
                // Both directions are done: the peer closes once it has written what it was given, and a stream
                // once its END_STREAM is out.
                if (outputEnd != null) {
                    outputEnd.addListener(f -> close());
                } else {
                    close();
                }
                return;
            }
            peer.endOutput();
        }

        /** The FIN of this side's output, after what it was given: END_STREAM on a stream. */
        private void endOutput() {
            ChannelFuture end = endStream();
            if (end != null) {
                outputEnd = end;
                return;
            }
            DuplexChannel out = (DuplexChannel) channel;
            out.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                if (f.isSuccess() && out.isActive()) {
                    out.shutdownOutput();
                }
            });
        }

        /** Closes this side once what it was given is written; a stream ends with END_STREAM first. */
        private void closeAfterWrites() {
            ChannelFuture end;
            if (outputEnd != null) {
                outputEnd.addListener(f -> closeNow());
            } else if ((end = endStream()) != null) {
                end.addListener(f -> closeNow());
            } else {
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        /** Closes this side, and the peer once what it was given is written. */
        void close() {
            if (closed) {
                return;
            }
            closed = true;
            ByteBuf b;
            while (early != null && (b = early.poll()) != null) {
                b.release();
            }
            closeNow();
            if (!peer.closed) {
                peer.closeAfterWrites();
            }
        }
    }
}
