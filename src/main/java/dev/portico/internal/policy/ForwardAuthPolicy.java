package dev.portico.internal.policy;

import dev.portico.config.ForwardAuthPolicyConfig;
import dev.portico.config.ForwardAuthPolicyConfig.OnFailure;
import dev.portico.internal.upstream.UpstreamPool;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.Suspension;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code forward_auth} policy: asks an auth service about each request, through Portico's upstream pool of the
 * request's event loop ({@link ForwardAuthCall}), and lets the request through on 2xx or relays any other answer.
 * One instance serves every loop: its state is the decision cache and the failure-log limiter, both thread-safe.
 */
final class ForwardAuthPolicy implements Policy {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardAuthPolicy.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** How much longer the suspension waits than the call, so the call's own timeout (on_failure) decides. */
    private static final Duration SUSPENSION_MARGIN = Duration.ofSeconds(1);
    /** The fields describing the request, in the order of their values in {@link #authHeaders}. */
    private static final String[] FORWARDED = {"X-Forwarded-Method", "X-Forwarded-Proto", "X-Forwarded-Host",
        "X-Forwarded-Uri", "X-Forwarded-For"};
    private static final LocalResponse UNAVAILABLE = LocalResponse.text(503, "authentication service unavailable\n");

    final ForwardAuthPolicyConfig config;
    final ForwardAuthTarget target;
    final long timeoutNanos;
    /** The lower-case names of copy_request_headers, or null for every field. */
    private final Set<String> copied;
    /** The copy_response_headers names, as configured. */
    final List<String> answerFields;
    private final ForwardAuthCache cache;
    private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
    private final AtomicLong unwarned = new AtomicLong();

    ForwardAuthPolicy(ForwardAuthPolicyConfig config) {
        this.config = config;
        this.timeoutNanos = config.timeout().toNanos();
        this.target = ForwardAuthTarget.of(config.url(), config.timeout().toMillis());
        this.copied = config.copiesAllRequestHeaders() ? null : Set.copyOf(config.copyRequestHeaders().stream()
                .map(h -> h.toLowerCase(Locale.ROOT)).toList());
        this.answerFields = config.copyResponseHeaders();
        this.cache = config.cache().isZero() ? null : new ForwardAuthCache(config.cache().toNanos());
    }

    @Override
    public Decision onRequest(RequestContext request) {
        PolicyRun run = (PolicyRun) request;
        UpstreamPool pool = run.upstreamPool();
        if (pool == null) {
            throw new IllegalStateException("forward_auth runs only inside Portico's server");
        }
        ForwardAuthCache.KeyBuilder key = cache == null ? null : new ForwardAuthCache.KeyBuilder();
        HttpHeaders h = authHeaders(run, key);
        ForwardAuthCache.Key k = key == null ? null : key.build();
        if (k != null) {
            List<Map.Entry<String, String>> fields = cache.get(k, System.nanoTime());
            if (fields != null) {
                apply(run, fields);
                return Decision.proceed();
            }
        }
        Suspension s = request.suspend(config.timeout().plus(SUSPENSION_MARGIN));
        new ForwardAuthCall(this, run, s, pool, HttpMethod.valueOf(run.method()), h, k).start();
        return Decision.suspended();
    }

    /**
     * The auth request's fields: Host, the copied request fields (never hop-by-hop or framing ones, nor the client's
     * own {@code X-Forwarded-*}, which Portico sets), then {@code X-Forwarded-Method, -Proto, -Host, -Uri, -For}.
     * Every part also goes into the cache key, when there is one.
     */
    private HttpHeaders authHeaders(PolicyRun run, ForwardAuthCache.KeyBuilder key) {
        HttpHeaders in = run.request().headers();
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.HOST, target.host);
        List<String> hopByHop = connectionTokens(in);
        for (Map.Entry<String, String> f : in) {
            String name = f.getKey().toLowerCase(Locale.ROOT);
            boolean wanted = copied == null ? !name.startsWith("x-forwarded-") : copied.contains(name);
            if (wanted && !ForwardAuthPolicyConfig.neverCopied(name) && !hopByHop.contains(name)) {
                h.add(f.getKey(), f.getValue());
                if (key != null) {
                    key.add(name).add(f.getValue());
                }
            }
        }
        String rawHost = in.get(HttpHeaderNames.HOST);
        String[] forwarded = {run.method(), run.scheme(), rawHost != null ? rawHost : run.host(),
            run.originalPath() + run.query(), run.clientIp()};
        for (int i = 0; i < FORWARDED.length; i++) {
            h.set(FORWARDED[i], forwarded[i]);
            if (key != null) {
                key.add(FORWARDED[i]).add(forwarded[i]);
            }
        }
        return h;
    }

    /** The lower-case names the client's {@code Connection} field makes hop-by-hop. */
    private static List<String> connectionTokens(HttpHeaders in) {
        if (!in.contains(HttpHeaderNames.CONNECTION)) {
            return List.of();
        }
        List<String> names = new ArrayList<>(2);
        for (String v : in.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : v.split(",")) {
                names.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }

    /** A 2xx answer: keep its fields for the cache, and set them on the request. */
    void allowed(PolicyRun run, HttpHeaders answer, ForwardAuthCache.Key key) {
        List<Map.Entry<String, String>> fields = new ArrayList<>(answerFields.size());
        for (String name : answerFields) {
            for (String v : answer.getAll(name)) {
                fields.add(Map.entry(name, v));
            }
        }
        if (key != null && !noStore(answer)) {
            cache.put(key, fields, System.nanoTime());
        }
        apply(run, fields);
    }

    /** The auth service's own {@code Cache-Control: no-store} or {@code no-cache} keeps a decision out of the cache. */
    private static boolean noStore(HttpHeaders answer) {
        for (String v : answer.getAll(HttpHeaderNames.CACHE_CONTROL)) {
            String s = v.toLowerCase(Locale.ROOT);
            if (s.contains("no-store") || s.contains("no-cache")) {
                return true;
            }
        }
        return false;
    }

    /** Replaces the client's copies of the copy_response_headers fields with the decision's (or none). */
    private void apply(PolicyRun run, List<Map.Entry<String, String>> fields) {
        HttpHeaders h = run.request().headers();
        for (String name : answerFields) {
            h.remove(name);
        }
        for (Map.Entry<String, String> f : fields) {
            try {
                h.add(f.getKey(), f.getValue());
            } catch (IllegalArgumentException e) {
                LOG.debug("forward_auth {}: field {} not set on the request: {}", target.url, f.getKey(), e.toString());
            }
        }
    }

    /** The auth service failed: on_failure decides, and a WARN says so at most every 10 s. */
    void failed(PolicyRun run, Suspension s, String why) {
        warn(run.method() + " " + run.originalPath() + ": " + why + "; on_failure "
                + config.onFailure().name().toLowerCase(Locale.ROOT));
        if (config.onFailure() == OnFailure.ALLOW) {
            apply(run, List.of());
            s.proceed();
        } else {
            s.respond(UNAVAILABLE);
        }
    }

    /** A denial's body was over the bound: its status and fields go to the client without it. */
    void warnTooLong(int status) {
        warn("a " + status + " answer's body is over " + ForwardAuthAnswer.MAX_BODY + " bytes: relayed without it");
    }

    /** Logs at most one WARN every 10 s per policy, counting the ones it holds back. */
    private void warn(String message) {
        long now = System.nanoTime();
        long last = lastWarn.get();
        if (now - last >= WARN_EVERY_NANOS && lastWarn.compareAndSet(last, now)) {
            long more = unwarned.getAndSet(0);
            LOG.warn("forward_auth {}: {}{}", target.url, message,
                    more == 0 ? "" : " (" + more + " more problems since the last warning)");
        } else {
            unwarned.incrementAndGet();
        }
    }
}
