package dev.portico.internal.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/**
 * The {@code portico_policy_decisions_total} counters of one policy, by outcome. Resolved when a chain is built, so
 * counting a decision on the data path is one lock-free increment. Thread-safe.
 */
public final class PolicyDecisions {
    /** The request went on along the chain. */
    public static final int ALLOWED = 0;
    /** The policy answered 429. */
    public static final int LIMITED = 1;
    /** The policy answered otherwise (401, 403, a redirect...). */
    public static final int DENIED = 2;
    /** The policy threw, timed out, or reported a failure it worked around (a store it could not reach). */
    public static final int ERROR = 3;
    private static final String[] OUTCOMES = {"allowed", "limited", "denied", "error"};

    /** Counters that count nowhere: chains built without a meter registry (tests of the chain alone). */
    public static final PolicyDecisions NONE = new PolicyDecisions(new CompositeMeterRegistry(), "-");

    private final Counter[] counters = new Counter[OUTCOMES.length];

    PolicyDecisions(MeterRegistry registry, String policy) {
        for (int i = 0; i < OUTCOMES.length; i++) {
            counters[i] = Counter.builder("portico.policy.decisions").tag("policy", policy)
                    .tag("outcome", OUTCOMES[i]).description("Decisions of policies' request phases, by outcome")
                    .register(registry);
        }
    }

    /** @param outcome {@link #ALLOWED}, {@link #LIMITED}, {@link #DENIED} or {@link #ERROR} */
    public void count(int outcome) {
        counters[outcome].increment();
    }

    /** @return the counts so far, indexed by outcome ({@link #ALLOWED} to {@link #ERROR}); any thread */
    public long[] counts() {
        long[] out = new long[counters.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) counters[i].count();
        }
        return out;
    }
}
