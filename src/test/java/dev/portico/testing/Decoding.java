package dev.portico.testing;

import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;

/** Decodes response bodies in tests with the reference decoders: the JDK's gzip, brotli4j, zstd-jni. */
public final class Decoding {
    private Decoding() {
    }

    /** @return a stream of {@code in} decoded with {@code encoding} (gzip, br, zstd) */
    public static InputStream stream(String encoding, InputStream in) throws IOException {
        return switch (encoding) {
            case "gzip" -> new GZIPInputStream(in, 64 * 1024);
            case "br" -> new BrotliInputStream(in);
            case "zstd" -> new ZstdInputStream(in).setContinuous(true);
            default -> throw new IllegalArgumentException(encoding);
        };
    }

    /**
     * Decodes the start of an encoded stream (what was flushed so far), which the decoding streams cannot do for
     * brotli: they fail on the missing end before handing out what they decoded.
     *
     * @return what {@code prefix} decodes to
     */
    public static byte[] decodePrefix(String encoding, byte[] prefix, int expected) throws IOException {
        if (!encoding.equals("br")) {
            try (InputStream in = stream(encoding, new ByteArrayInputStream(prefix))) {
                return in.readNBytes(expected);
            }
        }
        DecoderJNI.Wrapper d = new DecoderJNI.Wrapper(prefix.length);
        try {
            d.getInputBuffer().clear();
            d.getInputBuffer().put(prefix);
            d.push(prefix.length);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                if (d.hasOutput()) {
                    ByteBuffer b = d.pull();
                    byte[] chunk = new byte[b.remaining()];
                    b.get(chunk);
                    out.writeBytes(chunk);
                } else if (d.getStatus() == DecoderJNI.Status.OK) {
                    d.push(0);
                } else {
                    return out.toByteArray();
                }
            }
        } finally {
            d.destroy();
        }
    }

    /** @return the whole of {@code body} decoded */
    public static byte[] decode(String encoding, byte[] body) {
        try (InputStream in = stream(encoding, new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
