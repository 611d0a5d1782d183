package dev.portico.internal.cache;

import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;
import dev.portico.policy.Suspension;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.List;

/**
 * One request through the cache: the lookup and what it decided (a hit, a miss that fills, a revalidation), kept
 * for the response phase, which stores, freshens or invalidates. On the request's event loop, but for
 * {@link #forWaiter}, which a fill calls from its own.
 */
final class Lookup {
    private final CachePolicy p;
    private final RequestContext ctx;
    /** The request's fields as the client sent them (the request head itself may get the cache's validators). */
    private final HttpHeaders req;
    private final CacheControl reqCc;
    private final String method;
    private final String pathAndQuery;
    private final String key;
    private final long requestTime;
    private ExchangeHooks hooks;
    /** The Cache-Status parameters after the cache's name. */
    private String status = "fwd=uri-miss";
    private Entry stale;
    private Fill fill;
    private boolean invalidate;
    private boolean answered;
    private boolean substituted;

    Lookup(CachePolicy p, RequestContext ctx, HttpHeaders req) {
        this.p = p;
        this.ctx = ctx;
        this.req = req;
        this.reqCc = CacheControl.parse(req.getAll(HttpHeaderNames.CACHE_CONTROL));
        this.method = ctx.method();
        this.pathAndQuery = ctx.originalPath() + ctx.query();
        this.key = CachePolicy.key(ctx.scheme(), ctx.host(), pathAndQuery);
        this.requestTime = p.clock.millis();
    }

    Decision run() {
        if (!(ctx instanceof ExchangeHooks h)) {
            return Decision.proceed(); // not on Portico's exchange (a test of the bare policy API): pass through
        }
        hooks = h;
        ctx.attach(p, this);
        boolean get = method.equals("GET");
        if (!get && !method.equals("HEAD")) {
            status = "fwd=method";
            invalidate = CachePolicy.unsafe(method);
            return Decision.proceed();
        }
        ctx.headers().add("Surrogate-Capability", Freshness.SURROGATE + "=\"Surrogate/1.0\"");
        List<Entry> variants = p.store.get(key);
        Entry e = null;
        for (Entry candidate : variants) {
            if (candidate.matches(req) && (e == null || candidate.responseTime > e.responseTime)) {
                e = candidate;
            }
        }
        if (e == null) {
            p.store.misses.increment();
            status = variants.isEmpty() ? "fwd=uri-miss" : "fwd=vary-miss";
            if (reqCc.has("only-if-cached")) {
                return gatewayTimeout();
            }
            return get ? miss() : Decision.proceed();
        }
        long now = p.clock.millis();
        long age = e.age(now);
        long staleness = age - e.lifetime;
        boolean noCache = reqCc.has("no-cache") || e.cc.has("no-cache")
                || (!req.contains(HttpHeaderNames.CACHE_CONTROL) && "no-cache".equals(req.get(HttpHeaderNames.PRAGMA)));
        boolean ok = !noCache && staleness < 0;
        long maxAge = reqCc.seconds("max-age");
        if (maxAge >= 0 && age > maxAge) {
            ok = false;
        }
        long minFresh = reqCc.seconds("min-fresh");
        if (minFresh >= 0 && e.lifetime - age < minFresh) {
            ok = false;
        }
        boolean staleOk = false;
        if (!ok && !noCache && staleness >= 0 && !e.cc.has("must-revalidate") && !e.cc.has("proxy-revalidate")
                && !e.cc.has("s-maxage") && !e.cc.has("no-cache")) {
            String ms = reqCc.value("max-stale");
            long limit = reqCc.seconds("max-stale");
            staleOk = ms != null && (ms.isEmpty() || limit >= 0 && staleness <= limit)
                    && (maxAge < 0 || ms.isEmpty() || age <= maxAge + limit);
        }
        if (ok || staleOk) {
            p.store.hits.increment();
            if (staleOk) {
                p.store.staleServed.increment();
            }
            status = staleOk ? "hit; detail=stale" : "hit";
            return answer(HitResponse.build(e, now, req, true, false));
        }
        if (reqCc.has("only-if-cached")) {
            return gatewayTimeout();
        }
        stale = e;
        boolean swr = withinStaleWhileRevalidate(e, staleness);
        // RFC 5861: within stale-while-revalidate the stale entry answers at once and the cache revalidates it in
        // the background, unless the request asks for more than staleness allows (its own max-age or min-fresh).
        boolean background = swr && !noCache && staleness >= 0 && maxAge < 0 && minFresh < 0
                && hooks.origin() != null;
        if (get && !reqCc.has("no-cache") && !req.contains(HttpHeaderNames.RANGE)
                && (p.config.coalesce() || background)) {
            // One revalidation at a time: the others wait for it, or take the stale entry if
            // stale-while-revalidate allows, so an expiring popular entry makes no thundering herd.
            Fill candidate = new Fill(key, p.store, p.config.maxObjectSize());
            Fill f = p.store.joinOrLead(key, candidate);
            if (f != candidate) {
                if (swr) {
                    return staleWhileRevalidate(e, now);
                }
                forward(e);
                return waitFor(f);
            }
            if (background && Revalidation.start(p, hooks.origin(), e, candidate, ctx.scheme(), ctx.path(),
                    ctx.query())) {
                return staleWhileRevalidate(e, now);
            }
            if (p.config.coalesce()) {
                fill = candidate;
                hooks.tap(fill);
            } else {
                candidate.cancel(); // registered only for a background revalidation that could not start
            }
        }
        forward(e);
        return Decision.proceed();
    }

    /** The stale entry goes to the backend with its validators; the answer is seen by {@link #substitute}. */
    private void forward(Entry e) {
        p.store.misses.increment();
        status = reqCc.has("no-cache") ? "fwd=request" : "fwd=stale";
        if (e.hasValidator()) {
            String etag = e.headers.get(HttpHeaderNames.ETAG);
            String lm = e.headers.get(HttpHeaderNames.LAST_MODIFIED);
            var fields = ctx.headers();
            fields.remove("if-none-match");
            fields.remove("if-modified-since");
            fields.remove("if-range");
            fields.remove("range");
            if (etag != null) {
                fields.set("If-None-Match", etag);
            }
            if (lm != null) {
                fields.set("If-Modified-Since", lm);
            }
        }
        hooks.substitute(this::substitute);
    }

    private boolean withinStaleWhileRevalidate(Entry e, long staleness) {
        long swr = e.cc.seconds("stale-while-revalidate");
        return swr >= 0 && staleness <= swr && mayServeStale(e);
    }

    /** Answers from the stale entry while it is revalidated (by another request, or in the background). */
    private Decision staleWhileRevalidate(Entry e, long now) {
        p.store.hits.increment();
        p.store.staleServed.increment();
        status = "hit; detail=stale-while-revalidate";
        return answer(HitResponse.build(e, now, req, true, false));
    }

    /** Nothing usable is stored: lead a fill, or wait for the one under way. */
    private Decision miss() {
        if (!p.config.coalesce() || reqCc.has("no-store") || req.contains(HttpHeaderNames.RANGE)
                || reqCc.has("no-cache")) {
            return Decision.proceed();
        }
        Fill candidate = new Fill(key, p.store, p.config.maxObjectSize());
        Fill f = p.store.joinOrLead(key, candidate);
        if (f == candidate) {
            fill = candidate;
            hooks.tap(fill); // now, so that an exchange that fails before its response ends the fill too
            return Decision.proceed();
        }
        return waitFor(f);
    }

    /** Waits for the fill under way: answered from its entry, or sent to the backend if it brings none. */
    private Decision waitFor(Fill f) {
        Suspension s = ctx.suspend(CachePolicy.WAIT_FOR_FILL);
        ExchangeHooks h = hooks;
        if (!f.join(entry -> CachePolicy.resume(s, h, forWaiter(entry)))) {
            s.proceed();
        }
        return Decision.suspended();
    }

    /** A fill this request waited for ended: its response from the entry, or {@code null} to ask the backend. */
    private FullHttpResponse forWaiter(Entry e) {
        long now = p.clock.millis();
        if (e == null || !e.matches(req) || e.staleness(now) >= 0 || e.cc.has("no-cache")) {
            status = "fwd=miss; detail=collapsed";
            return null;
        }
        p.store.hits.increment();
        status = "hit; detail=collapsed";
        answered = true;
        return HitResponse.build(e, now, req, true, false);
    }

    private Decision answer(FullHttpResponse r) {
        answered = true;
        hooks.answerWith(r);
        return Decision.respond(CachePolicy.MARKER);
    }

    private Decision gatewayTimeout() {
        status = status + "; detail=only-if-cached";
        return Decision.respond(LocalResponse.text(504, "not in the cache\n"));
    }

    /** The backend answered a request this cache forwarded with a stale entry in hand. */
    private FullHttpResponse substitute(HttpResponse upstream, boolean failed) {
        int st = upstream.status().code();
        long now = p.clock.millis();
        if (failed) {
            return stale == null || !mayServeStale(stale) ? null : staleOnFailure(now, st);
        }
        if (st == 304 && stale != null) {
            Entry fresh = Store304.freshen(stale, upstream.headers(), requestTime, now, p.config.heuristic());
            p.store.replace(stale, fresh);
            status = "fwd=stale; fwd-status=304";
            substituted = true;
            if (fill != null) {
                fill.completeWith(fresh); // requests that waited for this revalidation get the freshened entry
            }
            return HitResponse.build(fresh, now, req, true, true);
        }
        if (st >= 500 && st <= 504 && stale != null && staleIfError(stale, now)) {
            if (fill != null) {
                fill.cancel(); // nothing new to store: requests that waited for it go on their own
            }
            p.store.staleServed.increment();
            status = "fwd=stale; fwd-status=" + st + "; detail=stale-if-error";
            substituted = true;
            return HitResponse.build(stale, now, req, true, true);
        }
        return null;
    }

    /**
     * RFC 9111 section 4.2.4: the backend could not be reached (refused, reset, silent): the cache is disconnected
     * and may serve its stale entry, unless the entry forbids it or the client asked to revalidate.
     */
    private FullHttpResponse staleOnFailure(long now, int st) {
        p.store.staleServed.increment();
        status = "fwd=stale; fwd-status=" + st + "; detail=disconnected";
        substituted = true;
        FullHttpResponse r = HitResponse.build(stale, now, req, true, false);
        return method.equals("HEAD") ? r.replace(io.netty.buffer.Unpooled.EMPTY_BUFFER) : r;
    }

    private boolean mayServeStale(Entry e) {
        return !e.cc.has("must-revalidate") && !e.cc.has("proxy-revalidate") && !e.cc.has("s-maxage")
                && !e.cc.has("no-cache") && !reqCc.has("no-cache");
    }

    private boolean staleIfError(Entry e, long now) {
        if (!mayServeStale(e)) {
            return false;
        }
        long grace = Math.max(p.config.staleIfError().toSeconds(),
                Math.max(e.cc.seconds("stale-if-error"), reqCc.seconds("stale-if-error")));
        return e.staleness(now) <= grace;
    }

    void onResponse(ResponseHead head) {
        if (!answered && !substituted && !head.local()) {
            store(head);
        } else if (fill != null && !answered && !substituted) {
            fill.cancel(); // Portico's own answer (an error): nothing to store, the waiters ask for themselves
        }
        head.headers().remove("surrogate-control");
        if (p.config.statusHeader()) {
            head.headers().set("Cache-Status", "portico; " + status);
        }
        hooks.cacheStatus(status);
    }

    private void store(ResponseHead head) {
        int st = head.status();
        if (invalidate) {
            if (st >= 200 && st < 400) {
                Store304.invalidate(p, ctx, key, head.headers());
            }
            return;
        }
        HttpHeaders rh = CachePolicy.copy(head.headers());
        CacheControl rc = CacheControl.parse(rh.getAll(HttpHeaderNames.CACHE_CONTROL));
        boolean ok = method.equals("GET") && Freshness.storable(st, req, reqCc, rh, rc)
                && Store304.lengthFits(rh, p.config.maxObjectSize());
        if (!ok) {
            if (fill != null) {
                fill.cancel();
            }
            return;
        }
        if (fill == null) {
            fill = new Fill(key, p.store, p.config.maxObjectSize());
            hooks.tap(fill);
        }
        Store304.stripForStorage(rh);
        fill.begin(new Fill.Head(ctx.host(), pathAndQuery, Vary.capture(rh, req), st, rh, requestTime,
                p.clock.millis(), p.config.heuristic()));
        status = status + "; stored";
    }
}
