package dev.portico.internal.trace;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The sampling decision, made before the SDK is asked for anything so that a request left out allocates nothing:
 * {@code parent_based} follows a valid incoming {@code traceparent}'s sampled flag; otherwise the ratio decides, on
 * the trace id's random part as the SDK's {@code TraceIdRatioBased} does (so every service using the same ratio
 * keeps the same traces), or on a random number for a root trace. The SDK itself then samples every span it is
 * given.
 */
final class Sampling {
    private final double ratio;
    private final long idUpperBound;
    private final boolean parentBased;

    Sampling(double ratio, boolean parentBased) {
        this.ratio = ratio;
        this.parentBased = parentBased;
        this.idUpperBound = ratio >= 1 ? Long.MAX_VALUE : ratio <= 0 ? Long.MIN_VALUE : (long) (ratio * Long.MAX_VALUE);
    }

    /**
     * @param traceparent the request's {@code traceparent}, or {@code null}
     * @return whether the request is traced
     */
    boolean sampled(String traceparent) {
        if (traceparent != null && valid(traceparent)) {
            if (parentBased) {
                return (hex(traceparent.charAt(54)) & 1) == 1;
            }
            long random = 0;
            for (int i = 19; i < 35; i++) { // the trace id's last 8 bytes
                random = random << 4 | hex(traceparent.charAt(i));
            }
            return Math.abs(random) < idUpperBound;
        }
        return ratio >= 1 || ratio > 0 && ThreadLocalRandom.current().nextDouble() < ratio;
    }

    /** W3C Trace Context: {@code vv-<32 hex>-<16 hex>-ff}, ids not all zero, version not {@code ff}. */
    static boolean valid(String tp) {
        if (tp.length() < 55 || tp.charAt(2) != '-' || tp.charAt(35) != '-' || tp.charAt(52) != '-'
                || (tp.length() > 55 && tp.charAt(55) != '-') || tp.startsWith("ff")) {
            return false;
        }
        boolean traceZero = true;
        boolean spanZero = true;
        for (int i = 0; i < 55; i++) {
            if (i == 2 || i == 35 || i == 52) {
                continue;
            }
            int v = hex(tp.charAt(i));
            if (v < 0) {
                return false;
            }
            if (i > 2 && i < 35) {
                traceZero &= v == 0;
            } else if (i > 35 && i < 52) {
                spanZero &= v == 0;
            }
        }
        return !traceZero && !spanZero;
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }
}
