package dev.portico.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty reported a leaked buffer while it ran. Registered for every test class through
 * {@code junit-platform.properties}; the suite runs with {@code -Dio.netty.leakDetection.level=paranoid}.
 */
public final class LeakCheckExtension implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) {
        List<String> leaks = collectLeaks();
        if (!leaks.isEmpty()) {
            // The reports in full are in the log; the message says where each buffer was made, short enough to
            // survive a log cut to its end.
            throw new AssertionError(leaks.size() + " buffer(s) leaked during " + context.getDisplayName()
                    + " (reports in full in the log), made at:\n"
                    + String.join("\n", leaks.stream().map(LeakCheckExtension::origin).toList()));
        }
    }

    /**
     * @param report one of Netty's leak reports
     * @return the frames of its "Created at" section below the allocator's, at most 12, or the report's first line
     */
    static String origin(String report) {
        int at = report.indexOf("Created at:");
        if (at < 0) {
            return report.lines().findFirst().orElse(report);
        }
        return report.substring(at).lines().skip(1).map(String::strip)
                .filter(f -> !f.startsWith("io.netty.buffer.")).limit(12)
                .collect(java.util.stream.Collectors.joining("\n  ", "- ", ""));
    }

    /**
     * Provokes Netty's leak reports and returns (and forgets) every one collected so far. Leaks are reported when a
     * later allocation finds a collected, unreleased buffer, so this collects garbage and allocates.
     *
     * @return the leak reports since the last call
     */
    public static List<String> collectLeaks() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            List<ByteBuf> probes = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                probes.add(PooledByteBufAllocator.DEFAULT.directBuffer(16));
                probes.add(UnpooledByteBufAllocator.DEFAULT.heapBuffer(16));
            }
            probes.forEach(ByteBuf::release);
        }
        List<String> leaks = new ArrayList<>(LeakCollector.LEAKS);
        LeakCollector.LEAKS.clear();
        return leaks;
    }
}
