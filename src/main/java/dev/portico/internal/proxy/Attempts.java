package dev.portico.internal.proxy;

import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.RetryConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The tries of one exchange: which endpoints it used, whether another try is allowed, and the request body kept
 * to replay (up to {@code retry.buffer}). Event-loop confined, like the exchange.
 */
final class Attempts {
    /** Why a try failed, as {@code retry_on} names it. */
    enum Cause { CONNECT_FAILURE, RESET, TIMEOUT, STATUS }

    private final UpstreamGroup group;
    private final RetryConfig retry;
    private final boolean idempotent;
    private final String hashKey;
    private final Endpoint[] tried;
    private int count;
    /** Retries granted by the policy (a keep-alive race's free retry is not one). */
    private int retries;
    /** The endpoint of the try in flight, counted in its {@code inFlight}; null between tries. */
    private Endpoint current;
    private Endpoint last;
    private boolean holdsRetrySlot;
    private boolean requestCounted;
    /** Whether every body part received so far is kept; false once they outgrow {@code retry.buffer}. */
    private boolean keeping = true;
    /** Duplicates of the body parts received (created on the first part with bytes: a GET allocates none). */
    private ArrayDeque<HttpContent> kept;
    /** Whether the body's end was received (and is kept, with no trailers: they are dropped upstream anyway). */
    private boolean keptEnd;
    private long keptBytes;

    Attempts(UpstreamGroup group, HttpMethod method, HttpHeaders headers, String clientIp, String uri) {
        this.group = group;
        this.retry = group.config().retry();
        this.idempotent = ProxyExchange.isIdempotent(method);
        this.hashKey = hashKey(group.config().hashOn(), headers, clientIp, uri);
        this.tried = new Endpoint[retry.attempts() + 1];
    }

    private static String hashKey(String hashOn, HttpHeaders headers, String clientIp, String uri) {
        if (hashOn == null) {
            return null;
        }
        if (hashOn.equals("client_ip")) {
            return clientIp;
        }
        if (hashOn.equals("path")) {
            int q = uri.indexOf('?');
            return q < 0 ? uri : uri.substring(0, q);
        }
        String name = hashOn.substring(hashOn.indexOf(':') + 1);
        if (hashOn.startsWith("header:")) {
            return headers.get(name);
        }
        for (String h : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decodeAll(h)) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    /** @return the endpoint for the next try, now counted as in flight; null if the upstream has none */
    Endpoint next() {
        if (!requestCounted) {
            requestCounted = true;
            group.requestStarted();
        }
        endTry();
        Endpoint e = group.select(hashKey, tried);
        if (e != null) {
            current = e;
            last = e;
            if (count < tried.length) {
                tried[count] = e;
            }
            count++;
            e.tryStarted();
        }
        return e;
    }

    /**
     * Starts another try on the last endpoint, outside the retry policy: for a keep-alive race, which says nothing
     * about the endpoint.
     *
     * @return the endpoint
     */
    Endpoint again() {
        endTry();
        current = last;
        count++;
        last.tryStarted();
        return last;
    }

    /** A retry outside the policy (a keep-alive race) is about to start. */
    void freeRetry() {
        group.retryOutsideBudget();
    }

    /** @return tries started so far */
    int count() {
        return count;
    }

    /** @return the endpoint of the last try, or null if none started */
    Endpoint last() {
        return last;
    }

    /** @return whether {@code status} is one {@code retry_on} lists */
    boolean retriesStatus(int status) {
        return group.retriesStatus(status);
    }

    /**
     * @param headers a response head to a gRPC request
     * @return whether it is trailers-only (its head has {@code grpc-status}) with a status {@code retry_on} lists
     */
    boolean retriesGrpc(HttpHeaders headers) {
        String status = headers.get("grpc-status");
        if (status == null || status.length() > 2) {
            return false;
        }
        try {
            return retry.retriesGrpcStatus(Integer.parseInt(status));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The current try got an answer; {@code failure} says whether passive health counts it as one. */
    void succeeded(boolean failure) {
        if (last != null) {
            if (failure) {
                last.failed("5xx response (passive.on_5xx)");
                group.onFailure(last);
            } else {
                group.onSuccess(last);
            }
        }
    }

    /** The current try failed for a reason passive health counts ({@code why}, shown by the dashboard). */
    void failed(String why) {
        if (last != null) {
            last.failed(why);
            group.onFailure(last);
        }
    }

    /**
     * Whether one more try may start, taking a retry from the upstream's budget if so.
     *
     * @param cause why the current try failed
     * @param bodySent whether request body bytes were written to the current try's connection
     */
    boolean mayRetry(Cause cause, boolean bodySent) {
        if (retries >= retry.attempts()) {
            return false;
        }
        boolean wanted = switch (cause) {
            case CONNECT_FAILURE -> retry.onConnectFailure();
            case RESET -> retry.onReset();
            case TIMEOUT -> retry.onTimeout();
            case STATUS -> true;
        };
        if (!wanted) {
            return false;
        }
        if (cause != Cause.CONNECT_FAILURE) {
            // The backend may have acted on the request: only a method safe to repeat, with its body at hand.
            if ((!idempotent && retry.idempotentOnly()) || (bodySent && !keeping)) {
                return false;
            }
        }
        if (holdsRetrySlot) {
            group.retryEnded();
            holdsRetrySlot = false;
        }
        if (cause == Cause.CONNECT_FAILURE) {
            // Outside the budget: nothing reached a backend, so the retry adds no load to a struggling one.
            retries++;
            group.retryOutsideBudget();
            return true;
        }
        holdsRetrySlot = group.tryStartRetry();
        if (holdsRetrySlot) {
            retries++;
        }
        return holdsRetrySlot;
    }

    /** @return the delay before retry number {@code count()}: exponential from {@code retry.backoff}, jittered */
    long backoffNanos() {
        long base = retry.backoff().toNanos();
        if (base == 0) {
            return 0;
        }
        int shift = Math.min(Math.max(retries - 1, 0), 10);
        double jitter = 0.5 + ThreadLocalRandom.current().nextDouble();
        return (long) (base * (double) (1L << shift) * jitter);
    }

    /**
     * Keeps a duplicate of a body part for replay while the kept parts fit in {@code retry.buffer}.
     *
     * @param content a body part just received
     */
    void keep(HttpContent content) {
        if (!keeping) {
            return;
        }
        int n = content.content().readableBytes();
        if (keptBytes + n > retry.buffer() || retry.attempts() == 0) {
            dropKept();
            return;
        }
        keptBytes += n;
        if (n > 0) {
            if (kept == null) {
                kept = new ArrayDeque<>(4);
            }
            kept.add(new DefaultHttpContent(content.content().retainedDuplicate()));
        }
        if (content instanceof LastHttpContent) {
            keptEnd = true;
        }
    }

    /** @return whether every body part received so far is kept */
    boolean bodyKept() {
        return keeping;
    }

    /**
     * Writes the kept body parts to a new try's connection (not flushed).
     *
     * @param ch the connection
     * @param onLast told when the part that ends the body is written, if it is kept
     */
    void replay(Channel ch, ChannelFutureListener onLast) {
        if (kept != null) {
            for (HttpContent c : kept) {
                ch.write(c.retainedDuplicate(), ch.voidPromise());
            }
        }
        if (keptEnd) {
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT).addListener(onLast);
        }
    }

    /** No retry can happen any more: let the kept body go. */
    void dropKept() {
        keeping = false;
        if (kept != null) {
            HttpContent c;
            while ((c = kept.poll()) != null) {
                c.release();
            }
            kept = null;
        }
    }

    /** The current try is over (it failed, or its response ended). */
    void endTry() {
        if (current != null) {
            current.tryEnded();
            current = null;
        }
    }

    /** The exchange is over: release everything it held. */
    void finish() {
        dropKept();
        endTry();
        if (holdsRetrySlot) {
            group.retryEnded();
            holdsRetrySlot = false;
        }
        if (requestCounted) {
            requestCounted = false;
            group.requestEnded();
        }
    }
}
