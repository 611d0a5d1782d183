package dev.portico.internal.policy;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;

/**
 * Zstandard (RFC 8878) through zstd-jni's streaming context: one frame for the whole body, input compressed as it
 * comes ({@code ZSTD_e_continue}), a flush ending a read's output with {@code ZSTD_e_flush}. State: the context with
 * a window of 2^{@value #WINDOW_LOG} bytes (512 KiB, well within the 8 MiB browsers accept) and its tables.
 */
final class ZstdTransform implements BodyTransform {
    static final int WINDOW_LOG = 19;
    /** No input, for flush and end; shared: a call only ever sets its position to 0 again. */
    private static final ByteBuffer NONE = ByteBuffer.allocateDirect(0);

    private final ZstdCompressCtx ctx;
    private boolean pending;
    private boolean closed;

    ZstdTransform(int level) {
        ctx = new ZstdCompressCtx().setLevel(level).setWindowLog(WINDOW_LOG).setChecksum(false);
    }

    @Override
    public ByteBuf next(ByteBuf in) {
        ByteBuf direct = in;
        try {
            if (!in.isDirect() || in.nioBufferCount() != 1) {
                direct = ByteBufAllocator.DEFAULT.directBuffer(in.readableBytes()).writeBytes(in);
            }
            ByteBuf out = EncoderOutput.forInput(direct.readableBytes());
            ByteBuffer src = direct.nioBuffer();
            while (src.hasRemaining()) {
                compress(out, src, EndDirective.CONTINUE);
                pending = true;
            }
            return out;
        } finally {
            if (direct != in) {
                direct.release();
            }
            in.release();
        }
    }

    @Override
    public ByteBuf flush() {
        if (!pending) {
            return Unpooled.EMPTY_BUFFER;
        }
        pending = false;
        return drain(EndDirective.FLUSH);
    }

    @Override
    public ByteBuf finish() {
        ByteBuf out = drain(EndDirective.END);
        close();
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ctx.close();
        }
    }

    private ByteBuf drain(EndDirective op) {
        ByteBuf out = EncoderOutput.forInput(0);
        while (!compress(out, NONE, op)) {
            // the context had more to write than the room given: go on
        }
        return out;
    }

    /** @return whether the directive completed (for flush and end: everything written) */
    private boolean compress(ByteBuf out, ByteBuffer src, EndDirective op) {
        ByteBuffer room = EncoderOutput.room(out);
        int start = room.position();
        boolean done = ctx.compressDirectByteBufferStream(room, src, op);
        EncoderOutput.wrote(out, room, start);
        return done;
    }
}
