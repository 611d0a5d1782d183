package dev.portico.config;

import java.util.List;

/**
 * The {@code ip_filter} policy: a client in a {@code deny} block gets 403; with a non-empty {@code allow} list, so
 * does every client outside it. Deny wins. The client address is the one {@code trusted_proxies} and the PROXY
 * protocol settle on.
 *
 * @param allow the blocks allowed (empty: all but the denied)
 * @param deny the blocks refused
 */
public record IpFilterPolicyConfig(List<Cidr> allow, List<Cidr> deny) implements PolicyConfig {
    /** Copies the lists; at least one must be non-empty. */
    public IpFilterPolicyConfig {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        if (allow.isEmpty() && deny.isEmpty()) {
            throw new IllegalArgumentException("needs allow or deny (or both)");
        }
    }

    /**
     * @param allow CIDR blocks allowed, e.g. {@code 10.0.0.0/8}
     * @return the policy
     */
    public static IpFilterPolicyConfig allow(String... allow) {
        return new IpFilterPolicyConfig(List.of(allow).stream().map(Cidr::parse).toList(), List.of());
    }

    /**
     * @param deny CIDR blocks refused
     * @return the policy
     */
    public static IpFilterPolicyConfig deny(String... deny) {
        return new IpFilterPolicyConfig(List.of(), List.of(deny).stream().map(Cidr::parse).toList());
    }

    @Override
    public String type() {
        return "ip_filter";
    }
}
