package dev.portico.fuzz;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the fuzzer saw beyond pass or fail, printed after the run: the status mix, strictly valid requests Portico
 * refused, strictly invalid ones it forwarded for a reason DESIGN.md does not require it to reject, and tries that
 * failed once but passed when replayed slowly (timing, not behaviour).
 */
final class FuzzStats {
    private final Map<String, Integer> counts = new TreeMap<>();
    private final Map<String, String> examples = new TreeMap<>();
    private int tries;
    private long millis;

    synchronized void tried(long tryMillis) {
        tries++;
        millis += tryMillis;
    }

    synchronized void note(String category, String example) {
        counts.merge(category, 1, Integer::sum);
        examples.putIfAbsent(category, example);
    }

    synchronized String report() {
        StringBuilder sb = new StringBuilder("fuzz: ").append(tries).append(" inputs played, ")
                .append(tries == 0 ? 0 : millis / tries).append(" ms per input on average\n");
        counts.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v)
                .append(k.startsWith("status ") ? "" : "   e.g. " + examples.get(k)).append('\n'));
        return sb.toString();
    }
}
