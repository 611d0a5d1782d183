package dev.portico.config;

import java.util.List;

/**
 * The settings that policies share across routes.
 *
 * @param defaults {@code default_policies}: applied to every route (before its own, unless it sets
 *     {@code skip_default_policies}) and to responses without a route
 * @param trustedProxies {@code trusted_proxies}: peers whose {@code X-Forwarded-For} and PROXY protocol header
 *     are believed
 */
public record PoliciesConfig(List<PolicyConfig> defaults, List<Cidr> trustedProxies) {
    /** No default policies and no trusted proxy. */
    public static final PoliciesConfig NONE = new PoliciesConfig(List.of(), List.of());

    /** Copies the lists. */
    public PoliciesConfig {
        defaults = List.copyOf(defaults);
        trustedProxies = List.copyOf(trustedProxies);
    }
}
