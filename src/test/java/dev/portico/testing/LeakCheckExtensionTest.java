package dev.portico.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The suite's leak check itself: a buffer dropped unreleased is reported, with the method that made it. */
@Timeout(30)
class LeakCheckExtensionTest {
    @Test
    void anUnreleasedBufferIsReportedWithTheMethodThatMadeIt() {
        dropOneBuffer();
        List<String> leaks = new ArrayList<>();
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
            leaks.addAll(LeakCheckExtension.collectLeaks());
            return !leaks.isEmpty();
        });

        assertThat(leaks).hasSize(1);
        assertThat(LeakCheckExtension.origin(leaks.get(0)))
                .startsWith("- ")
                .contains(LeakCheckExtensionTest.class.getName() + ".dropOneBuffer(")
                .doesNotContain("io.netty.buffer.PooledByteBufAllocator");
    }

    @Test
    void aReportWithoutItsCreationIsNamedByItsFirstLine() {
        assertThat(LeakCheckExtension.origin("LEAK: ByteBuf.release() was not called\n#1: somewhere"))
                .isEqualTo("LEAK: ByteBuf.release() was not called");
    }

    private static void dropOneBuffer() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        leaked.writeLong(1);
    }
}
