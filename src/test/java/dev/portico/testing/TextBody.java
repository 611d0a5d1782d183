package dev.portico.testing;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A deterministic text body of any length: words drawn by a seeded generator, so it compresses about as well as
 * real text (neither zeros nor noise), and a test can regenerate the bytes it expects instead of keeping them.
 */
public final class TextBody {
    private static final String[] WORDS = ("proxy stream window backend client header chunk encoder portico "
            + "request response policy route flush bytes memory buffer event loop netty gzip brotli zstd the a of "
            + "to and in is for on with that this it as be by at from").split(" ");

    private final SplittableRandom random;
    private final StringBuilder pending = new StringBuilder();

    public TextBody(long seed) {
        random = new SplittableRandom(seed);
    }

    /** @return the next {@code n} bytes of the text (ASCII) */
    public byte[] next(int n) {
        while (pending.length() < n) {
            pending.append(WORDS[random.nextInt(WORDS.length)]).append(random.nextInt(12) == 0 ? ".\n" : " ");
            if (random.nextInt(40) == 0) {
                pending.append(random.nextLong()).append(' ');
            }
        }
        byte[] out = pending.substring(0, n).getBytes(StandardCharsets.US_ASCII);
        pending.delete(0, n);
        return out;
    }

    /** @return the first {@code n} bytes of the text of {@code seed} */
    public static byte[] of(long seed, int n) {
        return new TextBody(seed).next(n);
    }
}
