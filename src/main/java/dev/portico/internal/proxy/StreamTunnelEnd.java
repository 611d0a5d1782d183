package dev.portico.internal.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client side of a tunnel on an HTTP/2 stream kept as state on its connection ({@link TunnelStream}): its
 * DATA frames are the bytes, END_STREAM its FIN, and a reset or the connection's close its close. The stream tells
 * it of its frames and events through {@link TunnelStream.End}; the tunnel's logic is {@link Tunnel.End}'s.
 */
final class StreamTunnelEnd extends Tunnel.End implements TunnelStream.End {
    private final TunnelStream stream;
    private long idleNanos;
    private boolean moved;
    private ScheduledFuture<?> idleCheck;

    StreamTunnelEnd(TunnelStream stream) {
        super(stream.connection(), stream::writable);
        this.stream = stream;
        stream.attach(this);
    }

    @Override
    boolean installed() {
        return true;
    }

    @Override
    boolean halfClosable() {
        return true;
    }

    @Override
    void allowHalfClosure() {
        halfClosure = true; // END_STREAM is the FIN; the connection's own half-closure stays as it is
    }

    @Override
    void out(ByteBuf bytes) {
        if (closed || !stream.active()) {
            bytes.release(); // the stream is gone: nothing more reaches its client
            return;
        }
        moved = true;
        stream.writeData(bytes);
    }

    @Override
    void flushOut() {
        stream.flush();
    }

    @Override
    boolean reading() {
        return stream.reading();
    }

    @Override
    void reading(boolean on) {
        stream.reading(on);
    }

    @Override
    boolean open() {
        return stream.active();
    }

    @Override
    void closeNow() {
        if (idleCheck != null) {
            idleCheck.cancel(false);
            idleCheck = null;
        }
        stream.reset();
    }

    @Override
    ChannelFuture endStream() {
        moved = true;
        return stream.endData();
    }

    @Override
    void startIdle(long idleMillis) {
        idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        if (!closed) {
            scheduleIdle();
        }
    }

    private void scheduleIdle() {
        idleCheck = channel.eventLoop().schedule(() -> {
            idleCheck = null;
            if (closed) {
                return;
            }
            if (moved) {
                moved = false;
                scheduleIdle();
            } else {
                idle();
            }
        }, idleNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void bytes(ByteBuf bytes) {
        moved = true;
        read(bytes);
    }

    @Override
    public void readDone() {
        readComplete();
    }

    @Override
    public void ended() {
        moved = true;
        inputEnded();
    }

    @Override
    public void windowChanged() {
        writabilityChanged(); // not activity: the connection's state flips for every stream
    }

    @Override
    public void streamClosed() {
        close();
    }
}
