package dev.portico.testing;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A brotli decoding stream on brotli4j's JNI decoder, the reference C decoder browsers use. (brotli4j's own
 * {@code BrotliInputStream} reports "unexpected end of input" on valid streams whose last bytes arrive while its
 * output is full, which the {@code brotli} tool reads in full: see {@link #step}.) With {@code complete}, the stream must end with brotli's last block; without it,
 * an encoded prefix decodes to what it holds.
 */
final class BrotliDecoding extends InputStream {
    private final InputStream source;
    private final boolean complete;
    private final DecoderJNI.Wrapper decoder;
    private ByteBuffer output;
    private boolean closed;
    private boolean drained;

    BrotliDecoding(InputStream source, boolean complete) throws IOException {
        Brotli4jLoader.ensureAvailability();
        this.source = source;
        this.complete = complete;
        this.decoder = new DecoderJNI.Wrapper(64 * 1024);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (output == null || !output.hasRemaining()) {
            if (!step()) {
                return -1;
            }
        }
        int n = Math.min(len, output.remaining());
        output.get(b, off, n);
        return n;
    }

    /** @return whether there may be more output */
    private boolean step() throws IOException {
        if (decoder.hasOutput()) {
            output = decoder.pull();
            return true;
        }
        switch (decoder.getStatus()) {
            case DONE:
                return false;
            case OK:
                decoder.push(0);
                return true;
            case NEEDS_MORE_INPUT:
                ByteBuffer in = decoder.getInputBuffer();
                in.clear();
                byte[] chunk = new byte[in.capacity()];
                int n = source.read(chunk);
                if (n < 0) {
                    if (!drained) {
                        // After a pull brotli4j reports "needs input" even when the decoder only has to run once
                        // more on what it holds (output was full): run it before deciding the input ended early.
                        drained = true;
                        decoder.push(0);
                        return true;
                    }
                    if (complete) {
                        throw new EOFException("brotli stream ended before its last block");
                    }
                    return false;
                }
                drained = false;
                in.put(chunk, 0, n);
                decoder.push(n);
                return true;
            default:
                throw new IOException("corrupt brotli stream: " + decoder.getStatus());
        }
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            decoder.destroy();
            source.close();
        }
    }
}
