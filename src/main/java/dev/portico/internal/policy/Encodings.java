package dev.portico.internal.policy;

import io.netty.handler.codec.compression.Brotli;
import io.netty.handler.codec.compression.Zstd;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The content codings Portico can produce, and which of them work on this machine: gzip always (the JDK's zlib);
 * br and zstd when their native libraries load (checked the way Netty's codecs check them). One that cannot load is
 * skipped with one warning per process, when the first {@code compress} policy is built (at start-up); requests
 * never fail for it.
 */
final class Encodings {
    private static final Logger LOG = LoggerFactory.getLogger(Encodings.class);
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private Encodings() {
    }

    /**
     * @param wanted encodings in order of preference
     * @return those that work here, in the same order
     */
    static List<String> usable(List<String> wanted) {
        return usable(wanted, Encodings::unavailability, WARNED);
    }

    /**
     * @param check why an encoding cannot be used, or {@code null} if it can
     * @param warned the encodings warned about already (added to)
     */
    static List<String> usable(List<String> wanted, Function<String, Throwable> check, Set<String> warned) {
        List<String> result = new ArrayList<>(wanted.size());
        for (String e : wanted) {
            Throwable missing = check.apply(e);
            if (missing == null) {
                result.add(e);
            } else if (warned.add(e)) {
                LOG.warn("compress: {} is not available on this machine, responses are not encoded with it ({})",
                        e, String.valueOf(missing));
            }
        }
        return List.copyOf(result);
    }

    /** @return why the encoding cannot be used here, or {@code null} if it can */
    private static Throwable unavailability(String encoding) {
        try {
            return switch (encoding) {
                case "br" -> Brotli.isAvailable() ? null : Brotli.cause();
                case "zstd" -> Zstd.isAvailable() ? null : Zstd.cause();
                default -> null;
            };
        } catch (LinkageError e) {
            return e; // the library's classes are not on the class path at all
        }
    }

    /**
     * @param encoding a usable encoding
     * @param level its level
     * @return a new transform for one response body
     */
    static BodyTransform transform(String encoding, int level) {
        return switch (encoding) {
            case "gzip" -> new GzipTransform(level);
            case "br" -> new BrotliTransform(level);
            case "zstd" -> new ZstdTransform(level);
            default -> throw new IllegalArgumentException("unknown encoding " + encoding);
        };
    }
}
