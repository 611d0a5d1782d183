package dev.portico.internal.policy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;

/**
 * The one output buffer an encoder fills for one input part: direct memory (what the socket writes), grown as the
 * encoder needs room, handed to the caller when the part is done.
 */
final class EncoderOutput {
    /** Room asked for before each native call: enough for a flush's block trailer and small outputs. */
    static final int MIN_ROOM = 4096;

    private EncoderOutput() {
    }

    /** @return a buffer for the output of {@code inputBytes} of input */
    static ByteBuf forInput(int inputBytes) {
        return ByteBufAllocator.DEFAULT.directBuffer(Math.max(MIN_ROOM, inputBytes / 2 + 64));
    }

    /** @return {@code out}'s writable region as an NIO buffer, after making sure it has {@code MIN_ROOM} bytes */
    static ByteBuffer room(ByteBuf out) {
        out.ensureWritable(MIN_ROOM);
        return out.internalNioBuffer(out.writerIndex(), out.writableBytes());
    }

    /** Moves {@code out}'s writer index past what a native call wrote into the buffer {@link #room} gave. */
    static void wrote(ByteBuf out, ByteBuffer region, int start) {
        out.writerIndex(out.writerIndex() + region.position() - start);
    }
}
