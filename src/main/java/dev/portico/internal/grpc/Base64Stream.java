package dev.portico.internal.grpc;

import io.netty.buffer.ByteBuf;

/**
 * Decodes a {@code application/grpc-web-text} request body as it streams: parts split anywhere (not on 4-character
 * boundaries) and padding inside the stream, since a client may encode each message on its own and send them one
 * after the other. At most 3 characters are carried from one part to the next.
 */
final class Base64Stream {
    private static final byte[] VALUE = new byte[128];
    private final byte[] quad = new byte[4];
    private int held;
    private boolean bad;

    static {
        java.util.Arrays.fill(VALUE, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.length(); i++) {
            VALUE[alphabet.charAt(i)] = (byte) i;
        }
    }

    /**
     * @param in the next characters (released by this call)
     * @return the bytes they complete, or {@code null} if the text is not base64
     */
    ByteBuf next(ByteBuf in) {
        try {
            ByteBuf out = in.alloc().buffer((held + in.readableBytes()) / 4 * 3);
            for (int i = in.readerIndex(), end = in.writerIndex(); i < end && !bad; i++) {
                byte c = in.getByte(i);
                if (c == '\r' || c == '\n') {
                    continue;
                }
                quad[held++] = c;
                if (held == 4) {
                    held = 0;
                    decode(out);
                }
            }
            if (bad) {
                out.release();
                return null;
            }
            return out;
        } finally {
            in.release();
        }
    }

    /** @return whether the body ended on a quad boundary, as base64 must */
    boolean complete() {
        return held == 0 && !bad;
    }

    private void decode(ByteBuf out) {
        int a = value(quad[0]);
        int b = value(quad[1]);
        boolean pad2 = quad[2] == '=';
        boolean pad3 = quad[3] == '=';
        int c = pad2 ? 0 : value(quad[2]);
        int d = pad3 ? 0 : value(quad[3]);
        if (a < 0 || b < 0 || c < 0 || d < 0 || pad2 && !pad3) {
            bad = true;
            return;
        }
        int bits = a << 18 | b << 12 | c << 6 | d;
        out.writeByte(bits >> 16);
        if (!pad2) {
            out.writeByte(bits >> 8);
        }
        if (!pad3) {
            out.writeByte(bits);
        }
    }

    private static int value(byte c) {
        return c < 0 ? -1 : VALUE[c];
    }
}
