package dev.portico.internal.policy;

import dev.portico.internal.metrics.PolicyDecisions;
import dev.portico.policy.Policy;
import java.util.List;

/**
 * A route's policies in order, ready for the data path. Immutable; routes without policies share {@link #EMPTY},
 * so they cost one branch per phase and no allocation.
 */
public final class PolicyChain {
    /** The chain of a route without policies. */
    public static final PolicyChain EMPTY = new PolicyChain(new Policy[0], new String[0], new PolicyDecisions[0]);

    final Policy[] policies;
    /** Each policy's name for logs: its {@code policies:} name or type. */
    final String[] names;
    /** Each policy's decision counters, in the same order. */
    final PolicyDecisions[] decisions;

    PolicyChain(Policy[] policies, String[] names, PolicyDecisions[] decisions) {
        this.policies = policies;
        this.names = names;
        this.decisions = decisions;
    }

    /**
     * @param policies the policies in order
     * @param names their names for the access log, in the same order
     * @return the chain ({@link #EMPTY} for none)
     */
    public static PolicyChain of(List<Policy> policies, List<String> names) {
        PolicyDecisions[] none = new PolicyDecisions[policies.size()];
        java.util.Arrays.fill(none, PolicyDecisions.NONE);
        return of(policies, names, List.of(none));
    }

    /**
     * @param policies the policies in order
     * @param names their names for the access log, in the same order
     * @param decisions their decision counters, in the same order
     * @return the chain ({@link #EMPTY} for none)
     */
    public static PolicyChain of(List<Policy> policies, List<String> names, List<PolicyDecisions> decisions) {
        if (policies.isEmpty()) {
            return EMPTY;
        }
        return new PolicyChain(policies.toArray(new Policy[0]), names.toArray(new String[0]),
                decisions.toArray(new PolicyDecisions[0]));
    }

    /**
     * Counts a decision of policy {@code i} in {@code portico_policy_decisions_total}.
     *
     * @param i the policy's index on the chain
     * @param outcome what it decided, a {@link PolicyDecisions} outcome
     * @param error whether it reported a failure it worked around: then it counts as an error whatever it decided
     */
    void count(int i, int outcome, boolean error) {
        decisions[i].count(error ? PolicyDecisions.ERROR : outcome);
    }

    /** @return the outcome of answering with {@code r}: a 429 limits, another 4xx or 5xx denies, the rest allows */
    static int outcome(dev.portico.policy.LocalResponse r) {
        // A policy that serves the request itself (a cache hit, a redirect, a preflight) let it through: allowed.
        return r.status() == 429 ? PolicyDecisions.LIMITED
                : r.status() >= 400 ? PolicyDecisions.DENIED : PolicyDecisions.ALLOWED;
    }

    /** @return whether the chain has no policy */
    public boolean isEmpty() {
        return policies.length == 0;
    }

    /** @return the number of policies */
    public int size() {
        return policies.length;
    }
}
