package dev.portico.internal.cache;

import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.internal.upstream.UpstreamCall;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background revalidation of a stale entry within its {@code stale-while-revalidate} (RFC 5861): the request
 * that found it was answered from it, and this conditional {@code GET}, tied to no client, asks the route's backend
 * (one endpoint picked by the upstream's balancer, no retry but the pool's keep-alive race) through the event loop's
 * pool. It is the {@link Fill} registered for the URL meanwhile, so there is one per URL at a time and requests
 * arriving meanwhile take the stale entry (or wait for it, when they may not). A 304 freshens the entry; a storable
 * response replaces it, its body copied into the fill up to {@code max_object_size} (beyond, the call is ended);
 * another full response drops the entry (it is outdated and cannot be replaced); a 5xx, a failure or a timeout
 * leaves it as it was (counted, logged at DEBUG). On the request's event loop from start to end.
 */
final class Revalidation implements UpstreamCall.Answer {
    private static final Logger LOG = LoggerFactory.getLogger(Revalidation.class);
    /** What Portico's exchanges add to {@code Via}; the cache's own request says the same. */
    private static final String VIA = "1.1 portico";

    private final CachePolicy p;
    private final Entry stale;
    private final Fill fill;
    private final HttpHeaders sent;
    private final UpstreamGroup group;
    private final Endpoint endpoint;
    private final long requestTime;
    private UpstreamCall call;
    private boolean storing;
    /** The outcome is decided before the body's end (a 304, a 5xx, a response not stored): the rest is dropped. */
    private boolean settled;
    private long length;
    private boolean ended;

    private Revalidation(CachePolicy p, Entry stale, Fill fill, HttpHeaders sent, UpstreamGroup group,
                         Endpoint endpoint) {
        this.p = p;
        this.stale = stale;
        this.fill = fill;
        this.sent = sent;
        this.group = group;
        this.endpoint = endpoint;
        this.requestTime = p.clock.millis();
    }

    /**
     * Starts the revalidation of {@code stale}, which {@code fill} now stands for in the store.
     *
     * @param p the cache
     * @param o the route's backend
     * @param stale the entry
     * @param fill the fill registered for its URL, ended by this revalidation
     * @param scheme {@code http} or {@code https}, as the client's request came
     * @param path the request path as the policies before the cache left it
     * @param query its query with the {@code ?}, or {@code ""}
     * @return whether it started; if not, {@code fill} is untouched
     */
    static boolean start(CachePolicy p, Origin o, Entry stale, Fill fill, String scheme, String path, String query) {
        UpstreamGroup group = o.group();
        Endpoint e = group.select(null, null);
        if (e == null) {
            return false;
        }
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.HOST, o.authority());
        for (Map.Entry<String, String> v : stale.vary.entrySet()) {
            if (v.getValue() != null) {
                h.set(v.getKey(), v.getValue()); // the fields the entry varies on, as its request had them
            }
        }
        String etag = stale.headers.get(HttpHeaderNames.ETAG);
        String lm = stale.headers.get(HttpHeaderNames.LAST_MODIFIED);
        if (etag != null) {
            h.set(HttpHeaderNames.IF_NONE_MATCH, etag);
        }
        if (lm != null) {
            h.set(HttpHeaderNames.IF_MODIFIED_SINCE, lm);
        }
        h.set("Surrogate-Capability", Freshness.SURROGATE + "=\"Surrogate/1.0\"");
        h.set("X-Forwarded-Proto", scheme);
        if (o.forwardedHost() != null) {
            h.set("X-Forwarded-Host", o.forwardedHost());
        }
        h.set(HttpHeaderNames.VIA, VIA);
        Revalidation r = new Revalidation(p, stale, fill, h, group, e);
        var u = group.config();
        r.call = new UpstreamCall(o.loop(), o.pool(), e, u.maxConnections(), u.maxPending(), HttpMethod.GET,
                o.target(path, query), h, TimeUnit.MILLISECONDS.toNanos(o.responseTimeoutMillis()), r);
        p.store.backgroundRevalidations.increment();
        e.tryStarted();
        r.call.start();
        return true;
    }

    @Override
    public void head(HttpResponse head) {
        int st = head.status().code();
        boolean serverError = st >= 500;
        if (serverError && group.config().passive().on5xx()) {
            endpoint.failed("5xx response (passive.on_5xx)");
            group.onFailure(endpoint);
        } else {
            group.onSuccess(endpoint);
        }
        long now = p.clock.millis();
        if (st == 304) {
            Entry fresh = Store304.freshen(stale, head.headers(), requestTime, now, p.config.heuristic());
            p.store.replace(stale, fresh);
            fill.completeWith(fresh);
            settled = true;
            return;
        }
        if (serverError) {
            settled = true;
            failure(head.status().toString()); // the stale entry stays; the body is read and dropped
            return;
        }
        HttpHeaders rh = new DefaultHttpHeaders().add(head.headers());
        CacheControl rc = CacheControl.parse(rh.getAll(HttpHeaderNames.CACHE_CONTROL));
        if (!Freshness.storable(st, sent, CacheControl.parse(List.of()), rh, rc)
                || !Store304.lengthFits(rh, p.config.maxObjectSize())) {
            settled = true;
            dropStale("a " + st + " that is not stored"); // its body is read and dropped: the connection stays
            return;
        }
        Store304.stripForStorage(rh);
        fill.begin(new Fill.Head(stale.host, stale.pathAndQuery, Vary.capture(rh, sent), st, rh, requestTime, now,
                p.config.heuristic()));
        storing = true;
    }

    @Override
    public void content(ByteBuf content, boolean last) {
        if (settled) {
            if (last) {
                done();
            }
            return;
        }
        length += content.readableBytes();
        if (length > p.config.maxObjectSize()) {
            settled = true;
            dropStale("a response over max_object_size");
            call.cancel(); // read no further: nothing of it would be kept
            done();
            return;
        }
        fill.onContent(content, last); // stores the new entry in place of the stale one at the last part
        if (last) {
            done();
        }
    }

    @Override
    public void failed(String why) {
        endpoint.failed(why);
        group.onFailure(endpoint);
        if (!settled) {
            if (storing) {
                fill.onAbort(); // the partial body is dropped, the stale entry stays
            }
            failure(why);
        }
        done();
    }

    /** The stale entry stays as it was: the next request within the window may start another revalidation. */
    private void failure(String why) {
        fill.cancel();
        p.store.backgroundFailures.increment();
        LOG.debug("cache: background revalidation of {} failed: {}", stale.key, why);
    }

    /** The backend sent a new response that cannot replace the entry: the outdated entry goes. */
    private void dropStale(String why) {
        LOG.debug("cache: background revalidation of {} got {}: entry removed", stale.key, why);
        p.store.drop(stale);
        if (storing) {
            fill.onAbort();
        } else {
            fill.cancel();
        }
    }

    private void done() {
        if (!ended) {
            ended = true;
            endpoint.tryEnded();
        }
    }
}
