package dev.portico.internal.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The registry's clock: wall time within a tick of the system's, and no thread left once closed. */
@Timeout(30)
class CoarseClockTest {
    @Test
    void followsTheSystemWallClockWithinATickAndStopsWhenClosed() {
        CoarseClock clock = new CoarseClock();
        try {
            long start = clock.wallTime();
            assertThat(Math.abs(start - System.currentTimeMillis())).isLessThanOrEqualTo(CoarseClock.TICK_MILLIS * 5);
            await().atMost(Duration.ofSeconds(5)).until(() -> clock.wallTime() >= start + 3 * CoarseClock.TICK_MILLIS);
            long lag = System.currentTimeMillis() - clock.wallTime();
            assertThat(lag).as("ms behind the system clock").isBetween(-5L, CoarseClock.TICK_MILLIS * 5);

            long before = System.nanoTime();
            long monotonic = clock.monotonicTime();
            assertThat(monotonic).isBetween(before, System.nanoTime());
        } finally {
            clock.close();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> !clock.ticking());
    }
}
