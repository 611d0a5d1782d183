package dev.portico.internal.balance;

import static dev.portico.internal.balance.UpstreamGroupTest.server;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.PassiveConfig;
import dev.portico.config.RetryConfig;
import dev.portico.config.UpstreamConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Connection slots and waiters of one endpoint ({@code max_connections}, {@code max_pending}). */
@Timeout(30)
class EndpointTest {
    private static Endpoint endpoint() {
        return new Endpoint(server(1, 1), new InetSocketAddress("127.0.0.1", 10_001));
    }

    @Test
    void connectionSlotsNeverExceedTheLimitFromManyThreads() throws Exception {
        Endpoint e = endpoint();
        int max = 4;
        AtomicInteger held = new AtomicInteger();
        AtomicInteger maxHeld = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException ex) {
                    return;
                }
                for (int i = 0; i < 20_000; i++) {
                    if (e.tryOpenConnection(max)) {
                        maxHeld.accumulateAndGet(held.incrementAndGet(), Math::max);
                        held.decrementAndGet();
                        e.connectionClosed();
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        go.countDown();
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(20));
        }

        assertThat(maxHeld.get()).isBetween(1, max);
        assertThat(e.connections()).isZero();
    }

    @Test
    void zeroMeansNoLimit() {
        Endpoint e = endpoint();
        for (int i = 0; i < 1_000; i++) {
            assertThat(e.tryOpenConnection(0)).isTrue();
        }
        assertThat(e.connections()).isEqualTo(1_000);
    }

    @Test
    void waitersQueueUpToMaxPendingAndAreWokenInOrder() {
        Endpoint e = endpoint();
        assertThat(e.tryOpenConnection(1)).isTrue();
        assertThat(e.tryOpenConnection(1)).isFalse();
        List<String> woken = new ArrayList<>();
        Runnable first = () -> woken.add("first");
        Runnable second = () -> woken.add("second");
        Runnable third = () -> woken.add("third");

        assertThat(e.await(first, 2)).isTrue();
        assertThat(e.await(second, 2)).isTrue();
        assertThat(e.await(third, 2)).as("max_pending reached").isFalse();
        assertThat(e.hasWaiters()).isTrue();

        e.connectionClosed();
        assertThat(woken).containsExactly("first");
        e.cancelWait(second);
        assertThat(e.hasWaiters()).isFalse();
        e.connectionClosed();
        assertThat(woken).as("a waiter that gave up is not woken").containsExactly("first");
    }

    @Test
    void anEndpointAtMaxConnectionsIsPassedOverWhileAnotherHasRoom() {
        UpstreamConfig c = new UpstreamConfig("limited", UpstreamGroupTest.servers(1, 1),
                UpstreamConfig.Balance.ROUND_ROBIN, null, null, PassiveConfig.DEFAULTS, RetryConfig.DEFAULTS, 1, 0,
                Duration.ZERO);
        UpstreamGroup g = UpstreamGroupTest.group(c);
        Endpoint full = g.endpoints().get(0);
        Endpoint free = g.endpoints().get(1);
        assertThat(full.tryOpenConnection(1)).isTrue();

        for (int i = 0; i < 100; i++) {
            assertThat(g.select(null, null)).isSameAs(free);
        }

        assertThat(free.tryOpenConnection(1)).isTrue();
        Map<Endpoint, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < 100; i++) {
            counts.merge(g.select(null, null), 1, Integer::sum);
        }
        assertThat(counts).as("every endpoint full: still one, to wait for a slot or be refused").hasSize(2);
    }
}
