package dev.portico.internal.server;

import dev.portico.internal.proxy.BufferBudget;
import dev.portico.internal.proxy.ExchangeHost;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

/**
 * The connection half of a {@link FrontendHandler}: what a client connection does on its own, without an exchange.
 * It answers requests it refuses (and redirects), answers a failed exchange, holds the request head deadline
 * ({@code timeouts.request_header}), and closes after a last response with a linger so the client reads the
 * response instead of a reset. {@link FrontendHandler} adds the requests: validation, routing, its exchanges and
 * the pipelined backlog.
 *
 * <p>A superclass rather than a collaborator so that a connection's handler stays one object. Its fields without an
 * access modifier are shared with {@link FrontendHandler} alone. All calls on the connection's event loop, so no
 * field needs a lock.
 */
abstract class FrontendConnection extends ChannelInboundHandlerAdapter implements ExchangeHost {
    /** How long a connection that is closed after an error keeps reading (and dropping) what the client sends. */
    static final long LINGER_MILLIS = 2000;

    final ProxyRuntime runtime;
    /** The TLS version and cipher, or {@code null} on a plain listener. */
    final String tls;
    ChannelHandlerContext ctx;
    ScheduledFuture<?> headTimer;
    boolean bytesSinceHead;
    /** Bytes of a head came in this read and {@link #headStartNanos} is not yet set. */
    boolean headStartPending;
    long headStartNanos;
    boolean closing;
    /** Set when the proxy or this connection's listener drains: the connection closes after its response. */
    boolean draining;
    /** The request id of the current request and its field, for error responses; null when request ids are off. */
    String requestId;
    AsciiString requestIdName;
    int requests;
    private String clientIp;
    private InetAddress peer;
    /**
     * The idle timer ({@code timeouts.idle}): neither read nor written for that long. Kept here rather than in a
     * stage of its own, which would cost every open connection a handler and a pipeline context, and watched by
     * its event loop's {@link IdleSweep} rather than a task of its own. A write still draining to a slow reader
     * counts as activity while its bytes move, sampled from the outbound buffer at each tick.
     *
     * <p>A read or a write only sets {@link #activeSinceTick}: the tick that sees it takes its own time as the last
     * activity. The clock is then read once per tick for all of the loop's connections rather than twice per
     * request, and the timer fires at the same tick: with {@code timeouts.idle} a whole number of ticks (a quarter
     * of it up to 4 s, whole seconds above), the first tick at or after the last activity plus the idle time is
     * the tick after the one that saw it plus the idle time.
     */
    private final long idleNanos;
    private IdleSweep sweep;
    /** The links of {@link IdleSweep}'s list. */
    FrontendConnection sweepPrev;
    FrontendConnection sweepNext;
    private long lastActivity;
    private boolean activeSinceTick;
    private Object lastMessage;
    /** Low 32 bits of the samples: a change by a multiple of 4 GiB between two ticks is seen at the next one. */
    private int lastProgress;
    private int lastPending;

    FrontendConnection(ProxyRuntime runtime, String tls) {
        this.runtime = runtime;
        this.tls = tls;
        this.idleNanos = runtime.config().timeouts().idle().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
        if (context.channel().isActive()) {
            startIdleTimer(); // a TLS connection: added after the handshake
        }
    }

    /** The connection is open: the idle timer starts. */
    void startIdleTimer() {
        if (sweep == null) {
            lastActivity = System.nanoTime();
            sweep = runtime.idleSweep(ctx.executor());
            sweep.add(this, idleNanos);
        }
    }

    void stopIdleTimer() {
        if (sweep != null) {
            sweep.remove(this);
            sweep = null;
        }
    }

    /** A read ended, or the codec is writing a message to the client: the connection is not idle. */
    void active() {
        activeSinceTick = true;
    }

    /**
     * A tick of the loop's sweep: idle for the whole period, or idle for a tick already, when the connection can
     * give back what it only needs while busy.
     *
     * @param now the tick's time
     * @param tick the time between ticks
     */
    void sweep(long now, long tick) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        if (activeSinceTick | outputMoved()) {
            activeSinceTick = false;
            lastActivity = now;
        }
        long quiet = now - lastActivity;
        if (quiet >= idleNanos) {
            lastActivity = now;
            onIdle();
        } else if (quiet >= tick) {
            clientIp = null; // cached for the requests of a busy connection; made again when one comes
            onQuiet();
        }
    }

    /** Neither read nor written for a tick of the sweep or more (and less than {@code timeouts.idle}). */
    abstract void onQuiet();

    /** Neither read nor written for {@code timeouts.idle}. */
    abstract void onIdle();

    /** Whether the outbound buffer changed since the last sample: a slow reader that still reads is not idle. */
    private boolean outputMoved() {
        ChannelOutboundBuffer buf = ctx.channel().unsafe().outboundBuffer();
        if (buf == null) {
            return false;
        }
        Object current = buf.current();
        int progress = (int) buf.currentProgress();
        int pending = (int) buf.totalPendingWriteBytes();
        boolean moved = current != lastMessage || progress != lastProgress || pending != lastPending;
        lastMessage = current;
        lastProgress = progress;
        lastPending = pending;
        return moved;
    }

    /** @return whether an exchange is under way on the connection */
    abstract boolean hasExchange();

    /** Releases the pipelined requests that wait in the backlog: the connection serves no more of them. */
    abstract void releaseBacklog();

    /** The error response, with the request id if there is one. */
    FullHttpResponse errorResponse(HttpResponseStatus status, String detail, boolean keepAlive) {
        FullHttpResponse response = ErrorResponses.of(status, detail, keepAlive);
        if (requestId != null) {
            response.headers().set(requestIdName, requestId);
        }
        return response;
    }

    /**
     * Closes after the last write, half-closing first and reading (and dropping) what the client still sends for
     * a moment, so the client reads the response instead of a reset caused by its unread upload.
     */
    void closeAfter(ChannelFuture lastWrite) {
        closing = true;
        releaseBacklog();
        cancelHeadTimer();
        Channel ch = ctx.channel();
        // A client that never reads the last write would keep the connection forever: close it in any case. The
        // task goes when the channel does, so closed channels are not held until it fires.
        ScheduledFuture<?> hardClose = ch.eventLoop().schedule(() -> {
            ch.close();
        }, runtime.config().timeouts().idle().toMillis() + LINGER_MILLIS, TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> hardClose.cancel(false));
        lastWrite.addListener(f -> {
            if (!f.isSuccess() || !(ch instanceof DuplexChannel) || !ch.isActive()) {
                ch.close();
                return;
            }
            // On TLS, close_notify first: without it a client cannot tell the end from a truncation.
            SslHandler ssl = tls == null ? null : ch.pipeline().get(SslHandler.class);
            ChannelFuture closeNotify = ssl == null ? ch.newSucceededFuture() : ssl.closeOutbound();
            closeNotify.addListener(n -> ((DuplexChannel) ch).shutdownOutput().addListener(s -> {
                ScheduledFuture<?> linger = ch.eventLoop().schedule(() -> {
                    ch.close();
                }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(c -> linger.cancel(false));
                ch.config().setAutoRead(true);
            }));
        });
    }

    @Override
    public BufferBudget buffered() {
        return runtime.buffered();
    }

    @Override
    public Channel clientChannel() {
        return ctx.channel();
    }

    @Override
    public boolean closeAfterResponse() {
        int max = runtime.config().limits().maxRequestsPerConnection();
        return draining || runtime.draining() || (max > 0 && requests >= max);
    }

    /** Arms the request head deadline: from the head's first byte, or from the accept for a first request. */
    void armHeadTimer() {
        noteHeadStart();
        long limit = runtime.config().timeouts().requestHeader().toNanos();
        long left = bytesSinceHead ? limit - (System.nanoTime() - headStartNanos) : limit;
        headTimer = ctx.executor().schedule(this::onHeadTimeout, Math.max(0, left), TimeUnit.NANOSECONDS);
    }

    /** A head started in this read and is still incomplete at its end: its deadline counts from now. */
    void noteHeadStart() {
        if (headStartPending) {
            headStartPending = false;
            if (bytesSinceHead) {
                headStartNanos = System.nanoTime();
            }
        }
    }

    void cancelHeadTimer() {
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
    }

    private void onHeadTimeout() {
        headTimer = null;
        if (hasExchange() || closing) {
            return;
        }
        if (bytesSinceHead) {
            runtime.logRejected(ctx.channel(), null, new ProxyFailure(Kind.REQUEST_TIMEOUT, "request head too slow"));
            runtime.metrics().rejected(Kind.REQUEST_TIMEOUT);
            runtime.metrics().localResponse(HttpResponseStatus.REQUEST_TIMEOUT.code());
            closeAfter(ctx.writeAndFlush(ErrorResponses.of(HttpResponseStatus.REQUEST_TIMEOUT,
                    "request head not received in time", false)));
        } else {
            closing = true;
            ctx.close();
        }
    }

    String clientIp() {
        if (clientIp == null) {
            clientIp = peer().getHostAddress();
        }
        return clientIp;
    }

    /** @return the connection's client: the PROXY protocol's source, else its peer */
    public InetAddress peer() {
        if (peer == null) {
            peer = ProxyProtocolHandler.clientAddress(ctx.channel());
        }
        return peer;
    }

    /** @return the connection's client address as text */
    public String peerIp() {
        return clientIp();
    }

    @Override
    public int requestNumber() {
        return requests;
    }

    @Override
    public String tlsSummary() {
        return tls;
    }
}
