package dev.portico.internal.ops;

import dev.portico.internal.metrics.Metrics;
import dev.portico.internal.policy.PolicyRegistry;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dashboard's policy decisions section, read from the counters behind
 * {@code portico_policy_decisions_total} and {@code portico_rate_limit_store_failures_total}: per policy label the
 * allowed, limited, denied and error counts since start and their rates per second over the window; per
 * {@code rate_limit} policy name its store failures and their rate. As JSON:
 * {@code {"d":{"rate_limit":{"n":[allowed,limited,denied,error],"r":[per second...]}},"sf":{"NAME":[count,rate]}}}.
 * Rates are rounded to a tenth, so an idle proxy yields the same text and the section is not sent again. Used by
 * the sampling thread alone.
 */
final class PolicyPanel {
    private final Metrics metrics;
    private final CounterWindow<String> decisions = new CounterWindow<>();
    private final CounterWindow<String> failures = new CounterWindow<>();

    PolicyPanel(Metrics metrics) {
        this.metrics = metrics;
    }

    /** @param nanos now, from {@link System#nanoTime()} */
    String json(long nanos) {
        StringBuilder sb = new StringBuilder(256).append("{\"d\":{");
        boolean first = true;
        for (Map.Entry<String, CounterWindow.Change> e
                : decisions.sample(metrics.policyDecisionCounts(), nanos).entrySet()) {
            CounterWindow.Change c = e.getValue();
            first = comma(sb, first);
            ConfigJson.string(sb, e.getKey());
            sb.append(":{\"n\":[");
            for (int i = 0; i < c.now().length; i++) {
                sb.append(i == 0 ? "" : ",").append(c.now()[i]);
            }
            sb.append("],\"r\":[");
            for (int i = 0; i < c.now().length; i++) {
                sb.append(i == 0 ? "" : ",").append(RouteRates.num(c.rate(i), 1));
            }
            sb.append("]}");
        }
        sb.append("},\"sf\":{");
        Map<String, long[]> counts = new LinkedHashMap<>();
        metrics.counts(PolicyRegistry.STORE_FAILURES).forEach((name, n) -> counts.put(name, new long[] {n}));
        first = true;
        for (Map.Entry<String, CounterWindow.Change> e : failures.sample(counts, nanos).entrySet()) {
            first = comma(sb, first);
            ConfigJson.string(sb, e.getKey());
            sb.append(":[").append(e.getValue().now()[0]).append(',')
                    .append(RouteRates.num(e.getValue().rate(0), 1)).append(']');
        }
        return sb.append("}}").toString();
    }

    static boolean comma(StringBuilder sb, boolean first) {
        if (!first) {
            sb.append(',');
        }
        return false;
    }
}
