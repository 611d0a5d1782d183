package dev.portico.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes Portico's edge with mutated requests (see {@link FuzzInputs}) and checks the {@link Invariants} on every
 * try. One proxy and one recording backend serve the whole container; the run ends with a check that Netty's
 * paranoid leak detector reported nothing (what {@code LeakCheckExtension} does for Jupiter classes, which jqwik
 * containers do not get).
 * <p>
 * The seed is random on every run and printed in jqwik's report; a failure is shrunk (bounded) to a minimal input,
 * printed as the escaped bytes sent. A try that fails is replayed once with a long quiet period before the client
 * half-closes (see {@link FuzzHarness}); only a failure that repeats counts, one that does not is a timing artefact
 * and is only counted in the summary.
 */
class ProxyFuzzProperties {
    /** {@code -Dportico.fuzz.survey=true}: count failures by kind over all tries instead of stopping at one. */
    private static final boolean SURVEY = Boolean.getBoolean("portico.fuzz.survey");
    private static FuzzHarness harness;
    private static FuzzStats stats;

    @BeforeContainer
    static void startProxyAndBackend() throws Exception {
        stats = new FuzzStats();
        harness = new FuzzHarness();
        // Warm up (class loading, JIT, upstream pool) and check the harness: every unmutated seed must pass.
        for (int i = 0; i < 5; i++) {
            assertThat(harness.canary()).as("warm-up request").isNull();
        }
        for (FuzzInputs.Seed seed : FuzzInputs.SEEDS) {
            FuzzHarness.TryResult r = harness.play(seed.bytes(), FuzzHarness.SLOW_QUIET_MILLIS);
            assertThat(Invariants.check(r, new FuzzStats())).as("unmutated seed %s", seed.name()).isEmpty();
        }
    }

    @AfterContainer
    static void stopAndCheckLeaks() throws Exception {
        if (harness != null) {
            harness.close();
            harness = null;
        }
        System.out.print(stats.report());
        assertThat(reportedLeaks()).as("buffers leaked while fuzzing").isEmpty();
    }

    @Property(tries = 400, shrinking = ShrinkingMode.BOUNDED, afterFailure = AfterFailureMode.RANDOM_SEED,
            maxDiscardRatio = 1)
    void everyMutatedRequestIsForwardedIntactOrRefused(@ForAll("mutatedRequests") FuzzInputs.Case input)
            throws Exception {
        byte[] bytes = input.bytes();
        FuzzHarness.TryResult r = harness.play(bytes, FuzzHarness.FAST_QUIET_MILLIS);
        stats.tried(r.millis());
        List<String> problems = Invariants.check(r, stats);
        if (!problems.isEmpty()) {
            FuzzHarness.TryResult slow = harness.play(bytes, FuzzHarness.SLOW_QUIET_MILLIS);
            List<String> again = Invariants.check(slow, new FuzzStats());
            if (again.isEmpty()) {
                stats.note("failed fast, passed when replayed slowly (timing)", problems + " for " + input);
                return;
            }
            problems = again;
            r = slow;
            if (SURVEY) {
                problems.forEach(x -> stats.note("FAILURE " + x.substring(0, Math.min(60, x.length())),
                        x + " for " + input));
                return;
            }
        }
        assertThat(problems).as("input %s%n client received \"%s\"%n backend saw %s%n access log %s%n warnings %s",
                input, Wire.escape(r.received(), 1500), r.backend(), r.access(), r.warnings()).isEmpty();
    }

    @Provide
    Arbitrary<FuzzInputs.Case> mutatedRequests() {
        return FuzzInputs.cases();
    }

    /**
     * Provokes and collects leak reports the way {@code dev.portico.testing.LeakCheckExtension} does: leaks are
     * reported when an allocation finds a collected, unreleased buffer. {@code LeakCollector.LEAKS} is package-private
     * there, hence the reflection.
     */
    @SuppressWarnings("unchecked")
    static List<String> reportedLeaks() throws Exception {
        for (int round = 0; round < 3; round++) {
            System.gc();
            List<ByteBuf> probes = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                probes.add(PooledByteBufAllocator.DEFAULT.directBuffer(16));
                probes.add(UnpooledByteBufAllocator.DEFAULT.heapBuffer(16));
            }
            probes.forEach(ByteBuf::release);
        }
        Field f = Class.forName("dev.portico.testing.LeakCollector").getDeclaredField("LEAKS");
        f.setAccessible(true);
        List<String> leaks = (List<String>) f.get(null);
        List<String> copy = new ArrayList<>(leaks);
        leaks.clear();
        return copy;
    }
}
