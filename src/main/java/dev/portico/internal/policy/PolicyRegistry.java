package dev.portico.internal.policy;

import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.CachePolicyConfig;
import dev.portico.config.CompressPolicyConfig;
import dev.portico.config.CorsPolicyConfig;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.ForwardAuthPolicyConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.config.PolicyConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.RedirectPolicyConfig;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.config.RewritePolicyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
import dev.portico.internal.metrics.Metrics;
import dev.portico.internal.metrics.PolicyDecisions;
import dev.portico.internal.cache.CachePolicy;
import dev.portico.policy.Policy;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * The live policy instances, keyed by their configuration records: a reload builds the next registry from the
 * previous one, so a policy whose record did not change keeps its instance (and any state it holds), and one no
 * route uses any more is dropped ({@link #retire}: closed if it is {@link AutoCloseable}). It also holds the Redis
 * link of {@code store: redis} rate limits, kept while the {@code redis:} section is unchanged. Used on reload only,
 * never on the data path; not thread-safe.
 */
public final class PolicyRegistry implements AutoCloseable {
    /** The meter of {@code portico_rate_limit_store_failures_total}, tagged {@code policy}. */
    public static final String STORE_FAILURES = "portico.rate_limit.store.failures";
    private final Map<PolicyConfig, Policy> instances;
    /** Where decisions and store failures are counted; null for a registry without metrics (tests). */
    private final Metrics metrics;
    /** The link to {@code redis:}, or null when no policy uses it. */
    private final RedisLink redis;
    /** The proxy's event loops, which the Redis client runs on; null for a registry without a proxy (tests). */
    private final EventLoopGroup loops;

    private PolicyRegistry(Map<PolicyConfig, Policy> instances, Metrics metrics, RedisLink redis,
                           EventLoopGroup loops) {
        this.instances = instances;
        this.metrics = metrics;
        this.redis = redis;
        this.loops = loops;
    }

    /** @return a registry with no instances, counting nothing */
    public static PolicyRegistry empty() {
        return empty(null, null);
    }

    /**
     * @param metrics where the registry's policies count their decisions
     * @param loops the proxy's event loops, for clients of stores such as Redis
     * @return a registry with no instances
     */
    public static PolicyRegistry empty(Metrics metrics, EventLoopGroup loops) {
        return new PolicyRegistry(new HashMap<>(), metrics, null, loops);
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
        boolean usesRedis = all.stream().anyMatch(PolicyRegistry::usesRedis);
        RedisLink link = !usesRedis ? null
                : redis != null && redis.config().equals(config.redis()) ? redis : new RedisLink(config.redis(), loops);
        for (PolicyConfig c : all) {
            next.computeIfAbsent(c, k -> {
                Policy old = instances.get(k);
                // A store: redis policy follows the link: a changed redis: section makes it anew.
                return old != null && (!usesRedis(k) || link == redis) ? old : create(k, link);
            });
        }
        return new PolicyRegistry(next, metrics, link, loops);
    }

    /** @return the Redis link, or null (tests) */
    RedisLink redis() {
        return redis;
    }

    /** @return the instance made for a record, or null (tests) */
    Policy instance(PolicyConfig c) {
        return instances.get(c);
    }

    private static boolean usesRedis(PolicyConfig c) {
        return c instanceof RateLimitPolicyConfig r && r.store() == RateLimitPolicyConfig.Store.REDIS;
    }

    /**
     * Closes what this registry holds and {@code successor} does not: dropped policies (if closeable) and a Redis
     * link no longer used. Called once the successor serves (or, for a successor that was never applied, on it with
     * the registry that stays).
     *
     * @param successor the registry that serves from now on
     */
    public void retire(PolicyRegistry successor) {
        Set<Object> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(successor.instances.values());
        kept.add(successor.redis);
        for (Policy p : instances.values()) {
            if (!kept.contains(p)) {
                closeQuietly(p);
            }
        }
        if (redis != null && !kept.contains(redis)) {
            closeQuietly(redis);
        }
    }

    /** Closes every closeable policy and the Redis link: the proxy stops. */
    @Override
    public void close() {
        retire(empty());
    }

    private static void closeQuietly(Object o) {
        if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LoggerFactory.getLogger("portico").warn("closing {} failed: {}", o, e.toString());
            }
        }
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
        List<PolicyDecisions> decisions = new ArrayList<>(configs.size());
        for (PolicyConfig c : configs) {
            Policy p = instances.get(c);
            if (p == null) {
                throw new IllegalStateException("policy not in the registry: " + c);
            }
            policies.add(p);
            String name = c instanceof CustomPolicyConfig custom && !custom.className().isEmpty()
                    ? custom.className() : c.type();
            names.add(name);
            decisions.add(metrics == null ? PolicyDecisions.NONE : metrics.policyDecisions(name));
        }
        return PolicyChain.of(policies, names, decisions);
    }

    /** @return the instance a record makes: built-in types here, custom ones as configured */
    private Policy create(PolicyConfig c, RedisLink link) {
        if (c instanceof RateLimitPolicyConfig r) {
            Runnable failures = metrics == null ? () -> { }
                    : metrics.counter(STORE_FAILURES, "rate_limit decisions the Redis store "
                    + "failed to make (down, error or slower than redis.timeout)", "policy", r.name());
            return new RateLimitPolicy(r, link, failures);
        }
        return create(c);
    }

    /** @return the live cache policies (for purges and metrics) */
    public List<CachePolicy> caches() {
        return instances.values().stream().filter(CachePolicy.class::isInstance).map(CachePolicy.class::cast).toList();
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
        } else if (c instanceof ForwardAuthPolicyConfig f) {
            return new ForwardAuthPolicy(f);
        } else if (c instanceof BasicAuthPolicyConfig basic) {
            return new BasicAuthPolicy(basic);
        } else if (c instanceof JwtPolicyConfig jwt) {
            return new JwtPolicy(jwt);
        } else if (c instanceof CachePolicyConfig cache) {
            return new CachePolicy(cache);
        } else if (c instanceof CompressPolicyConfig compress) {
            return new CompressPolicy(compress);
        }
        return ((CustomPolicyConfig) c).policy();
    }
}
