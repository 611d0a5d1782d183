package dev.portico.testing;

import static org.assertj.core.api.Assertions.assertThat;

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
        assertThat(collectLeaks()).as("buffers leaked during " + context.getDisplayName()).isEmpty();
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
