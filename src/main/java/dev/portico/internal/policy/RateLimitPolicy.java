package dev.portico.internal.policy;

import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.RateLimitPolicyConfig.HeaderStyle;
import dev.portico.config.RateLimitPolicyConfig.OnStoreFailure;
import dev.portico.policy.Decision;
import dev.portico.policy.Headers;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;
import dev.portico.policy.Suspension;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code rate_limit} policy: a token bucket per key, in this process ({@link LocalBuckets}) or in Redis
 * ({@link RedisBuckets}). A refused request gets 429 with {@code Retry-After}; responses carry the configured
 * rate-limit fields. With Redis the request phase suspends and the reply resumes it; a store failure (down, error,
 * slower than {@code redis.timeout}) applies {@code on_store_failure}, is counted, and is logged at most once per
 * 10 s.
 */
final class RateLimitPolicy implements Policy {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    private static final long WARN_EVERY_NANOS = 10_000_000_000L;

    private final RateLimitPolicyConfig config;
    private final RateLimitKey key;
    private final LocalBuckets local;
    private final RedisBuckets redis;
    private final Runnable failures;
    private final Duration backstop;
    private final String policyField;
    private final String limit;
    private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);

    /**
     * @param config the settings
     * @param link the Redis link, for {@code store: redis}
     * @param failures counts store failures
     */
    RateLimitPolicy(RateLimitPolicyConfig config, RedisLink link, Runnable failures) {
        this.config = config;
        this.key = new RateLimitKey(config.key());
        this.failures = failures;
        if (config.store() == RateLimitPolicyConfig.Store.REDIS) {
            this.local = null;
            this.redis = new RedisBuckets(config, link);
            // The store's own timeout decides first; this only keeps a lost reply from holding a request forever.
            this.backstop = link.config().timeout().plusSeconds(5);
        } else {
            this.local = new LocalBuckets(config, LocalBuckets.MAX_KEYS);
            this.redis = null;
            this.backstop = null;
        }
        this.policyField = "\"" + config.name() + "\";q=" + config.rate() + ";w=" + config.per().toSeconds();
        this.limit = Long.toString(config.rate());
    }

    @Override
    public Decision onRequest(RequestContext r) {
        String k = key.of(r);
        if (local != null) {
            return decide(r, local.take(k, System.nanoTime()));
        }
        Verdict leased = redis.fromLease(k);
        if (leased != null) {
            return decide(r, leased);
        }
        Pending pending = new Pending();
        r.attach(this, pending);
        Suspension s = r.suspend(backstop);
        redis.ask(k).whenComplete((v, e) -> {
            if (e != null) {
                storeFailed(r, s, e);
            } else {
                pending.verdict = v;
                if (v.allowed()) {
                    s.proceed();
                } else {
                    s.respond(limited(v));
                }
            }
        });
        return Decision.suspended();
    }

    private Decision decide(RequestContext r, Verdict v) {
        if (config.headers() != HeaderStyle.NONE) {
            r.attach(this, v);
        }
        return v.allowed() ? Decision.proceed() : Decision.respond(limited(v));
    }

    private static LocalResponse limited(Verdict v) {
        return LocalResponse.builder(429).header("Retry-After", Long.toString(v.retryAfterSeconds()))
                .header("Content-Type", "text/plain; charset=utf-8").body("Too Many Requests\n").build();
    }

    /** On a Lettuce or timer thread: count, maybe log, and apply {@code on_store_failure}. */
    private void storeFailed(RequestContext r, Suspension s, Throwable e) {
        failures.run();
        long now = System.nanoTime();
        long last = lastWarn.get();
        if (now - last >= WARN_EVERY_NANOS && lastWarn.compareAndSet(last, now)) {
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                    ? e.getCause() : e;
            LOG.warn("rate_limit {}: the Redis store failed ({}); on_store_failure {} applies (logged at most once "
                    + "per 10 s)", config.name(), cause instanceof java.util.concurrent.TimeoutException
                    ? "no answer within redis.timeout" : String.valueOf(cause),
                    config.onStoreFailure().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (r instanceof PolicyRun run) {
            run.reportError(); // before resuming: the resumption happens-after this write
        }
        if (config.onStoreFailure() == OnStoreFailure.ALLOW) {
            s.proceed();
        } else {
            s.respond(LocalResponse.text(503, "Service Unavailable\n"));
        }
    }

    @Override
    public void onResponse(RequestContext r, ResponseHead response) {
        if (config.headers() == HeaderStyle.NONE) {
            return;
        }
        Object a = r.attachment(this);
        Verdict v = a instanceof Verdict verdict ? verdict : a instanceof Pending p ? p.verdict : null;
        if (v == null) {
            return; // the store failed: nothing true to say
        }
        Headers h = response.headers();
        if (config.headers() == HeaderStyle.IETF) {
            h.set("RateLimit-Policy", policyField);
            h.set("RateLimit", "\"" + config.name() + "\";r=" + v.remaining() + ";t=" + v.fullSeconds());
        } else {
            h.set("X-RateLimit-Limit", limit);
            h.set("X-RateLimit-Remaining", Long.toString(v.remaining()));
            h.set("X-RateLimit-Reset", Long.toString(v.fullSeconds()));
        }
    }

    /** @return the local table's key count (tests) */
    int localKeys() {
        return local == null ? 0 : local.size();
    }

    @Override
    public String toString() {
        return "rate_limit " + config.name() + " " + config.rateText() + " burst " + config.burst() + " "
                + config.store().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A Redis decision on its way: written on a Lettuce thread before the suspension resumes the request. */
    private static final class Pending {
        volatile Verdict verdict;
    }
}
