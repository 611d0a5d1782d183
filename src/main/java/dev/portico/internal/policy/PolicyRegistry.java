package dev.portico.internal.policy;

import dev.portico.config.CompressPolicyConfig;
import dev.portico.config.CorsPolicyConfig;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.PolicyConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RedirectPolicyConfig;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.config.RewritePolicyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
import dev.portico.policy.Policy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The live policy instances, keyed by their configuration records: a reload builds the next registry from the
 * previous one, so a policy whose record did not change keeps its instance (and any state it holds), and one no
 * route uses any more is dropped. Used on reload only, never on the data path; not thread-safe.
 */
public final class PolicyRegistry {
    private final Map<PolicyConfig, Policy> instances;

    private PolicyRegistry(Map<PolicyConfig, Policy> instances) {
        this.instances = instances;
    }

    /** @return a registry with no instances */
    public static PolicyRegistry empty() {
        return new PolicyRegistry(new HashMap<>());
    }

    /**
     * @param config the configuration to serve
     * @return a registry holding exactly the policies {@code config} uses, reusing this one's where the record is
     *     unchanged
     */
    public PolicyRegistry next(ProxyConfig config) {
        Map<PolicyConfig, Policy> next = new HashMap<>();
        List<PolicyConfig> all = new ArrayList<>(config.policies().defaults());
        for (RouteConfig r : config.routes()) {
            all.addAll(r.policies());
        }
        for (PolicyConfig c : all) {
            next.computeIfAbsent(c, k -> {
                Policy old = instances.get(k);
                return old != null ? old : create(k);
            });
        }
        return new PolicyRegistry(next);
    }

    /**
     * @param route a route of the configuration this registry was made for
     * @param config the configuration
     * @return the route's chain: the default policies (unless skipped), then its own
     */
    public PolicyChain chain(RouteConfig route, ProxyConfig config) {
        List<PolicyConfig> configs = new ArrayList<>();
        if (!route.skipDefaultPolicies()) {
            configs.addAll(config.policies().defaults());
        }
        configs.addAll(route.policies());
        return chain(configs);
    }

    /**
     * @param config the configuration
     * @return the chain for responses without a route: the default policies
     */
    public PolicyChain defaultChain(ProxyConfig config) {
        return chain(config.policies().defaults());
    }

    private PolicyChain chain(List<PolicyConfig> configs) {
        List<Policy> policies = new ArrayList<>(configs.size());
        List<String> names = new ArrayList<>(configs.size());
        for (PolicyConfig c : configs) {
            Policy p = instances.get(c);
            if (p == null) {
                throw new IllegalStateException("policy not in the registry: " + c);
            }
            policies.add(p);
            names.add(c instanceof CustomPolicyConfig custom && !custom.className().isEmpty()
                    ? custom.className() : c.type());
        }
        return PolicyChain.of(policies, names);
    }

    /** @return the instance a record makes: built-in types here, custom ones as configured */
    static Policy create(PolicyConfig c) {
        if (c instanceof HeadersPolicyConfig h) {
            return new HeadersPolicy(h);
        } else if (c instanceof RewritePolicyConfig r) {
            return new RewritePolicy(r);
        } else if (c instanceof RedirectPolicyConfig r) {
            return new RedirectPolicy(r);
        } else if (c instanceof RespondPolicyConfig r) {
            return new RespondPolicy(r);
        } else if (c instanceof IpFilterPolicyConfig f) {
            return new IpFilterPolicy(f);
        } else if (c instanceof SecurityHeadersPolicyConfig s) {
            return new SecurityHeadersPolicy(s);
        } else if (c instanceof CorsPolicyConfig cors) {
            return new CorsPolicy(cors);
        } else if (c instanceof CompressPolicyConfig compress) {
            return new CompressPolicy(compress);
        }
        return ((CustomPolicyConfig) c).policy();
    }
}
