package dev.portico.config;

import java.util.Objects;

/**
 * One server of an upstream.
 *
 * @param url the server's URL; a host name may resolve to several addresses, each an endpoint of this weight
 * @param weight the server's share of traffic relative to the others, 1 to {@value #MAX_WEIGHT}
 */
public record ServerConfig(UpstreamUrl url, int weight) {
    /** The largest weight. */
    public static final int MAX_WEIGHT = 1000;

    /** Validates the weight. */
    public ServerConfig {
        Objects.requireNonNull(url, "url");
        ConfigValues.inRange(weight, 1, MAX_WEIGHT, "weight");
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof ServerConfig other && Objects.equals(url, other.url) && weight == other.weight;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(url, weight);
    }
}
