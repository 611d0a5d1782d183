package dev.portico.config;

/**
 * One policy on a route's chain, as configured: a sealed family with one record per policy type. The YAML loader
 * builds them from {@code policies:}, {@code default_policies:} and a route's {@code policies:}; Java code builds
 * them with the records' factories and builders. Two equal records make policies that behave the same, so a
 * reload keeps a policy whose record is unchanged.
 */
public sealed interface PolicyConfig permits HeadersPolicyConfig, RewritePolicyConfig, RedirectPolicyConfig,
        RespondPolicyConfig, IpFilterPolicyConfig, SecurityHeadersPolicyConfig, CorsPolicyConfig, CustomPolicyConfig,
        ForwardAuthPolicyConfig, BasicAuthPolicyConfig, JwtPolicyConfig,
        RateLimitPolicyConfig, CachePolicyConfig,
        CompressPolicyConfig {
    /** @return the policy type's YAML key, e.g. {@code headers} */
    String type();
}
