package dev.portico.internal.policy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip (RFC 1952) with the JDK's zlib: raw deflate between a header and a CRC-32/length trailer written here, so a
 * flush can end a read's output with a sync flush ({@code Deflater.SYNC_FLUSH}) and the client decodes it at once.
 * State: zlib's deflate state (a 32 KiB window and its hash chains, about 256 KiB of native memory).
 */
final class GzipTransform implements BodyTransform {
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final Deflater deflater;
    private final CRC32 crc = new CRC32();
    private boolean headerSent;
    private boolean pending;
    private boolean closed;

    GzipTransform(int level) {
        deflater = new Deflater(level, true);
    }

    @Override
    public ByteBuf next(ByteBuf in) {
        try {
            int n = in.readableBytes();
            ByteBuf out = start(n);
            if (n == 0) {
                return out;
            }
            ByteBuffer src = in.nioBuffer();
            crc.update(src.duplicate());
            deflater.setInput(src);
            while (!deflater.needsInput()) {
                deflate(out, Deflater.NO_FLUSH);
            }
            pending = true;
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
        ByteBuf out = start(0);
        int n;
        do {
            n = deflate(out, Deflater.SYNC_FLUSH);
        } while (n > 0 && !out.isWritable());
        return out;
    }

    @Override
    public ByteBuf finish() {
        ByteBuf out = start(0);
        deflater.finish();
        while (!deflater.finished()) {
            deflate(out, Deflater.NO_FLUSH);
        }
        out.writeIntLE((int) crc.getValue());
        out.writeIntLE((int) deflater.getBytesRead()); // ISIZE: the length modulo 2^32
        close();
        return out;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            deflater.end();
        }
    }

    private ByteBuf start(int inputBytes) {
        ByteBuf out = EncoderOutput.forInput(inputBytes);
        if (!headerSent) {
            headerSent = true;
            out.writeBytes(HEADER);
        }
        return out;
    }

    private int deflate(ByteBuf out, int flush) {
        ByteBuffer room = EncoderOutput.room(out);
        int start = room.position();
        deflater.deflate(room, flush);
        EncoderOutput.wrote(out, room, start);
        return room.position() - start;
    }
}
