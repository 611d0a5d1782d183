package dev.portico.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
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
 * printed as the escaped bytes sent. A try that fails is replayed once: only a failure that repeats counts; one
 * that does not is a timing artefact (the client half-closes after a quiet period, see {@link FuzzHarness}, which
 * a stalled JVM can outlast) and is only counted in the summary.
 */
class ProxyFuzzTest {
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
            harness.late().forEach(e -> stats.note("forwarded for an earlier try, seen by the backend late",
                    e.toString()));
            harness.close();
            harness = null;
        }
        System.out.print(stats.report());
        assertThat(reportedLeaks()).as("buffers leaked while fuzzing").isEmpty();
    }

    /** 400 tries take about 30 s (some 70 ms each: send, quiet period, EOF, canary) on a 2-core machine. */
    @Property(tries = 400, shrinking = ShrinkingMode.BOUNDED, afterFailure = AfterFailureMode.RANDOM_SEED)
    void everyMutatedRequestIsForwardedIntactOrRefused(@ForAll("mutatedRequests") FuzzInputs.Case input)
            throws Exception {
        verify(input.bytes(), input.toString());
    }

    // Inputs the fuzzer found; kept as examples so they are replayed on every run.

    @Example
    void aMalformedChunkSizeMidBodyNeverEndsTheForwardedBody() throws Exception {
        verify("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n\r\n"
                + "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
    }

    @Example
    void anOverflowingChunkSizeIsRefused() throws Exception {
        verify("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100000005\r\nhello\r\n0\r\n\r\n");
    }

    @Example
    void conflictingContentLengthsAreRefusedInHttp10Too() throws Exception {
        verify("POST /old HTTP/1.0\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    }

    @Example
    void anInvalidAuthorityInAbsoluteFormIsRefusedNotForwardedAsHost() throws Exception {
        verify("GET http://\"example.test/abs HTTP/1.1\r\nHost: example.test\r\n\r\n");
    }

    @Example
    void anInvalidHostFieldIsRefused() throws Exception {
        verify("GET / HTTP/1.1\r\nHost: exa\"mple.test\r\n\r\n");
    }

    @Example
    void anUnsupportedExpectationIsAnsweredAndLogged() throws Exception {
        verify("POST /submit HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx");
    }

    private static void verify(String input) throws Exception {
        verify(input.getBytes(StandardCharsets.ISO_8859_1), "\"" + Wire.escape(
                input.getBytes(StandardCharsets.ISO_8859_1)) + "\"");
    }

    private static void verify(byte[] bytes, String input) throws Exception {
        FuzzHarness.TryResult r = harness.play(bytes, FuzzHarness.FAST_QUIET_MILLIS);
        stats.tried(r.millis());
        List<String> problems = Invariants.check(r, stats);
        if (!problems.isEmpty()) {
            FuzzHarness.TryResult replay = harness.play(bytes, FuzzHarness.FAST_QUIET_MILLIS);
            List<String> again = Invariants.check(replay, new FuzzStats());
            if (again.isEmpty()) {
                stats.note("failed once, passed when replayed (timing)", problems + " for " + input);
                return;
            }
            problems = again;
            r = replay;
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

    static List<String> reportedLeaks() {
        return dev.portico.testing.LeakCheckExtension.collectLeaks();
    }
}
