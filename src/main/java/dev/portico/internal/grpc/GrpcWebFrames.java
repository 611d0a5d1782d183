package dev.portico.internal.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.base64.Base64;
import io.netty.handler.codec.base64.Base64Dialect;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * gRPC-Web's framing of trailers: a frame whose flag byte is {@code 0x80}, a 4-byte big-endian length, then one
 * {@code name:value\r\n} line per field with a lower-case name (the gRPC-Web protocol, PROTOCOL-WEB.md).
 */
final class GrpcWebFrames {
    /** The flag byte of a trailer frame. */
    static final int TRAILER_FLAG = 0x80;

    private GrpcWebFrames() {
    }

    /**
     * @param alloc where the frame's buffer comes from
     * @param fields the trailers, in order
     * @return the trailer frame
     */
    static ByteBuf trailerFrame(ByteBufAllocator alloc, List<Map.Entry<String, String>> fields) {
        StringBuilder sb = new StringBuilder(64);
        for (Map.Entry<String, String> e : fields) {
            sb.append(e.getKey().toLowerCase(Locale.ROOT)).append(':').append(e.getValue()).append("\r\n");
        }
        byte[] block = sb.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuf frame = alloc.buffer(5 + block.length);
        frame.writeByte(TRAILER_FLAG).writeInt(block.length).writeBytes(block);
        return frame;
    }

    /**
     * @param in bytes (released)
     * @return their standard base64 form with padding, on one line
     */
    static ByteBuf base64(ByteBuf in) {
        try {
            return Base64.encode(in, in.readerIndex(), in.readableBytes(), false, Base64Dialect.STANDARD);
        } finally {
            in.release();
        }
    }
}
