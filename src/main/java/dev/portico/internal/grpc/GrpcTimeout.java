package dev.portico.internal.grpc;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code grpc-timeout} request field: 1 to 8 ASCII digits and a unit ({@code H M S m u n}), e.g. {@code 200m},
 * {@code 5S}. A malformed value counts as absent, as the gRPC spec leaves no other choice to an intermediary.
 */
public final class GrpcTimeout {
    private static final Logger LOG = LoggerFactory.getLogger(GrpcTimeout.class);
    /** The largest value that has 8 digits. */
    private static final long MAX_VALUE = 99_999_999L;

    private GrpcTimeout() {
    }

    /**
     * @param value the field's value, or {@code null}
     * @return the timeout in nanoseconds, or -1 when the field is absent or malformed
     */
    public static long parseNanos(CharSequence value) {
        if (value == null) {
            return -1;
        }
        int n = value.length();
        if (n < 2 || n > 9) {
            return malformed(value);
        }
        long amount = 0;
        for (int i = 0; i < n - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return malformed(value);
            }
            amount = amount * 10 + (c - '0');
        }
        TimeUnit unit = switch (value.charAt(n - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        if (unit == null) {
            return malformed(value);
        }
        return unit.toNanos(amount); // saturates: 99999999H is Long.MAX_VALUE nanoseconds, which is fine
    }

    private static long malformed(CharSequence value) {
        LOG.debug("ignoring malformed grpc-timeout {}", value);
        return -1;
    }

    /**
     * @param nanos a remaining budget, at least 0
     * @return the budget as a {@code grpc-timeout} value: whole milliseconds (rounded down) as a backend logs them
     *     best, nanoseconds under a millisecond, and coarser units only when milliseconds need more than 8 digits
     */
    public static String format(long nanos) {
        long n = Math.max(0, nanos);
        if (n < 1_000_000L) {
            return n + "n";
        }
        long[] per = {1_000_000L, 1_000_000_000L, 60_000_000_000L, 3_600_000_000_000L};
        char[] unit = {'m', 'S', 'M', 'H'};
        for (int i = 0; i < per.length; i++) {
            long v = n / per[i];
            if (v <= MAX_VALUE) {
                return v + String.valueOf(unit[i]);
            }
        }
        return MAX_VALUE + "H";
    }
}
