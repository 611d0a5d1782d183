package dev.portico.testing;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.DataFormatException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;

/** Decodes response bodies in tests with the reference decoders: the JDK's gzip, brotli's
 * reference decoder (through brotli4j), zstd-jni. A stream that ends early fails. */
public final class Decoding {
    private Decoding() {
    }

    /** @return a stream of {@code in} decoded with {@code encoding} (gzip, br, zstd) */
    public static InputStream stream(String encoding, InputStream in) throws IOException {
        return switch (encoding) {
            case "gzip" -> new GZIPInputStream(in, 64 * 1024);
            case "br" -> new BrotliDecoding(in, true);
            case "zstd" -> new ZstdInputStream(in);
            default -> throw new IllegalArgumentException(encoding);
        };
    }

    /**
     * Decodes the start of an encoded stream (what was flushed so far).
     *
     * @return what {@code prefix} decodes to
     */
    public static byte[] decodePrefix(String encoding, byte[] prefix, int expected) throws IOException {
        if (encoding.equals("gzip")) {
            return inflatePrefix(prefix, expected);
        }
        InputStream source = new ByteArrayInputStream(prefix);
        InputStream in = switch (encoding) {
            case "br" -> new BrotliDecoding(source, false);
            case "zstd" -> new ZstdInputStream(source).setContinuous(true);
            default -> stream(encoding, source);
        };
        try (in) {
            return in.readNBytes(expected);
        }
    }

    /** GZIPInputStream fails on a stream that stops before its end: inflate what came after a plain header. */
    private static byte[] inflatePrefix(byte[] prefix, int expected) throws IOException {
        if (prefix.length <= 10) {
            return new byte[0];
        }
        if ((prefix[3] & 0xff) != 0) {
            throw new IOException("gzip header with optional fields: not expected from Portico");
        }
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(prefix, 10, prefix.length - 10);
            byte[] out = new byte[expected];
            int n = 0;
            while (n < expected) {
                int got = inflater.inflate(out, n, expected - n);
                if (got == 0) {
                    break;
                }
                n += got;
            }
            return java.util.Arrays.copyOf(out, n);
        } catch (DataFormatException e) {
            throw new IOException(e);
        } finally {
            inflater.end();
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
