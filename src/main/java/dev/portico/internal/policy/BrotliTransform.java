package dev.portico.internal.policy;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.encoder.Encoder;
import com.aayushatharva.brotli4j.encoder.EncoderJNI;
import com.aayushatharva.brotli4j.encoder.EncoderJNI.Operation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Brotli (RFC 7932) through brotli4j's streaming encoder: input is copied into the encoder's own input buffer in
 * slices, output pulled as it appears; a flush ends a read's output with {@code BROTLI_OPERATION_FLUSH}. State: the
 * encoder's window ({@value #LG_WIN}: 512 KiB) and hash tables, plus a {@value #INPUT_BUFFER}-byte input buffer.
 */
final class BrotliTransform implements BodyTransform {
    /** log2 of the window: 512 KiB, the window nginx's brotli module defaults to. */
    static final int LG_WIN = 19;
    static final int INPUT_BUFFER = 32 * 1024;

    static {
        Brotli4jLoader.ensureAvailability(); // loads the native library (made only for usable encodings)
    }

    private final EncoderJNI.Wrapper encoder;
    private boolean pending;
    private boolean closed;

    BrotliTransform(int quality) {
        try {
            encoder = new EncoderJNI.Wrapper(INPUT_BUFFER, quality, LG_WIN, Encoder.Mode.GENERIC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public ByteBuf next(ByteBuf in) {
        try {
            ByteBuf out = EncoderOutput.forInput(in.readableBytes());
            ByteBuffer input = encoder.getInputBuffer();
            while (in.isReadable()) {
                int n = Math.min(in.readableBytes(), input.capacity());
                input.clear().limit(n);
                in.readBytes(input);
                run(Operation.PROCESS, n, out);
                pending = true;
            }
            return out;
        } finally {
            in.release();
        }
    }

    @Override
    public ByteBuf flush() {
        if (!pending) {
            return Unpooled.EMPTY_BUFFER;
        }
        pending = false;
        ByteBuf out = EncoderOutput.forInput(0);
        run(Operation.FLUSH, 0, out);
        return out;
    }

    @Override
    public ByteBuf finish() {
        ByteBuf out = EncoderOutput.forInput(0);
        run(Operation.FINISH, 0, out);
        while (!encoder.isFinished()) {
            run(Operation.FINISH, 0, out);
        }
        close();
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            encoder.destroy();
        }
    }

    /** Pushes {@code length} bytes of the input buffer with {@code op}, pulling output until the encoder is idle. */
    private void run(Operation op, int length, ByteBuf out) {
        encoder.push(op, length);
        for (;;) {
            if (!encoder.isSuccess()) {
                throw new IllegalStateException("brotli encoder failed");
            }
            if (encoder.hasMoreOutput()) {
                out.writeBytes(encoder.pull());
            } else if (encoder.hasRemainingInput()) {
                encoder.push(op, 0);
            } else {
                return;
            }
        }
    }
}
