package dev.portico.internal.cache;

import dev.portico.config.CachePolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.Headers;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;
import dev.portico.policy.Suspension;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The {@code cache} policy: answers from the store what RFC 9111 lets a shared cache answer, revalidates stale
 * entries with conditional requests, and stores what the backend sends while it streams to the client. One
 * instance per configuration record, kept across reloads with its store.
 */
public final class CachePolicy implements Policy {
    /** The marker decision of a request answered through {@link ExchangeHooks#answerWith}. */
    static final LocalResponse MARKER = LocalResponse.builder(200).build();
    /** How long a coalesced miss waits for the fill before its own request gives up with 504. */
    static final Duration WAIT_FOR_FILL = Duration.ofSeconds(60);

    final CachePolicyConfig config;
    final CacheStore store;
    final Clock clock;

    /** @param config the settings */
    public CachePolicy(CachePolicyConfig config) {
        this(config, Clock.systemUTC());
    }

    CachePolicy(CachePolicyConfig config, Clock clock) {
        this.config = config;
        this.store = new CacheStore(config.maxSize());
        this.clock = clock;
    }

    /** @return the settings this instance was made for */
    public CachePolicyConfig config() {
        return config;
    }

    /** @return the counters and sizes of the store */
    public CacheStats stats() {
        return new CacheStats(store);
    }

    /**
     * Removes entries by host and path prefix.
     *
     * @param host the host (lower case, no port), or {@code null} for every host
     * @param pathPrefix the path prefix, or {@code null} for every path
     * @return how many entries were removed
     */
    public int purge(String host, String pathPrefix) {
        return store.purge((h, p) -> (host == null || host.equalsIgnoreCase(h))
                && (pathPrefix == null || p.startsWith(pathPrefix)));
    }

    /**
     * Removes the entries of one URL.
     *
     * @param scheme {@code http} or {@code https}
     * @param host the host, lower case, no port
     * @param pathAndQuery the path with its query
     * @return how many entries were removed
     */
    public int purgeUrl(String scheme, String host, String pathAndQuery) {
        return store.remove(key(scheme, host, pathAndQuery));
    }

    static String key(String scheme, String host, String pathAndQuery) {
        return scheme + "://" + host + pathAndQuery;
    }

    @Override
    public Decision onRequest(RequestContext ctx) {
        return new Lookup(this, ctx, copy(ctx.headers())).run();
    }

    @Override
    public void onResponse(RequestContext ctx, ResponseHead response) {
        if (ctx.attachment(this) instanceof Lookup l) {
            l.onResponse(response);
        }
    }

    static HttpHeaders copy(Headers h) {
        HttpHeaders out = new DefaultHttpHeaders();
        for (String name : h.names()) {
            for (String v : h.getAll(name)) {
                out.add(name, v);
            }
        }
        return out;
    }

    /** Answers a waiting request with a stored entry, or lets it go to the backend. */
    static void resume(Suspension s, ExchangeHooks hooks, FullHttpResponse r) {
        if (r == null) {
            s.proceed();
            return;
        }
        hooks.answerWith(r);
        s.respond(MARKER);
    }

    static boolean unsafe(String method) {
        return !List.of("GET", "HEAD", "OPTIONS", "TRACE").contains(method);
    }
}
