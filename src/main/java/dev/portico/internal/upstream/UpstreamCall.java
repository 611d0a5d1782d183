package dev.portico.internal.upstream;

import dev.portico.internal.balance.Endpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One bodiless request Portico makes on its own (an auth service's verdict, a cache's background revalidation), on
 * an event loop through that loop's {@link UpstreamPool}, like an exchange's try: borrow a connection (pooled or
 * new), write the request, hand the answer's head and body parts to an {@link Answer}, and give the connection back
 * when the answer allows keep-alive (else close it). One timer covers the whole call. A pooled connection that the
 * backend closed before any byte of the answer (a keep-alive race) is retried once on a new one; nothing else is
 * retried. {@link #cancel} ends the call at once: the connection is closed, a queued wait given up, and the answer
 * hears nothing more. Everything runs on the loop, so no field needs a lock; no buffer is held beyond a callback.
 */
public final class UpstreamCall implements UpstreamListener, UpstreamPool.Callback, Runnable {
    /** What the caller learns of the call, once each at most, on the loop; {@link #cancel} may be called from any. */
    public interface Answer {
        /**
         * The final response head (interim 1xx ones are skipped).
         *
         * @param head the head (it holds no buffer)
         */
        void head(HttpResponse head);

        /**
         * A part of the body; after the last one the call is over (its connection already given back or closed).
         *
         * @param content the bytes (not retained: copy what is kept)
         * @param last whether it is the last part
         */
        void content(ByteBuf content, boolean last);

        /**
         * The call failed before its answer ended (never after {@link #cancel}).
         *
         * @param why what went wrong, for a log line
         */
        void failed(String why);
    }

    private final EventExecutor loop;
    private final UpstreamPool pool;
    private final Endpoint endpoint;
    private final int maxConnections;
    private final int maxPending;
    private final HttpMethod method;
    private final String target;
    private final HttpHeaders headers;
    private final long timeoutNanos;
    private final Answer answer;
    private ScheduledFuture<?> timer;
    private Runnable cancelWait;
    private UpstreamConnection conn;
    private HttpResponse head;
    private boolean interim;
    private boolean retried;
    private boolean done;

    /**
     * @param loop the pool's event loop, where the call runs
     * @param pool the pool of that loop
     * @param endpoint where the request goes
     * @param maxConnections the endpoint's connection limit, 0 for none
     * @param maxPending how many requests may wait for a slot
     * @param method the method
     * @param target the origin-form request target
     * @param headers the request's fields, Host included
     * @param timeoutNanos how long the whole call may take
     * @param answer who learns the outcome
     */
    public UpstreamCall(EventExecutor loop, UpstreamPool pool, Endpoint endpoint, int maxConnections, int maxPending,
                        HttpMethod method, String target, HttpHeaders headers, long timeoutNanos, Answer answer) {
        this.loop = loop;
        this.pool = pool;
        this.endpoint = endpoint;
        this.maxConnections = maxConnections;
        this.maxPending = maxPending;
        this.method = method;
        this.target = target;
        this.headers = headers;
        this.timeoutNanos = timeoutNanos;
        this.answer = answer;
        if (method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.PATCH)) {
            headers.set(HttpHeaderNames.CONTENT_LENGTH, "0"); // the method expects a body: say it is empty
        }
    }

    /** Starts the call; on the loop. */
    public void start() {
        timer = loop.schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
        acquire();
    }

    private void acquire() {
        Runnable wait = pool.acquire(endpoint, endpoint.tls(), maxConnections, maxPending, this, this);
        if (!done) {
            cancelWait = wait;
        }
    }

    @Override
    public void acquired(UpstreamConnection connection) {
        cancelWait = null;
        if (done) {
            connection.discard();
            return;
        }
        conn = connection;
        Channel ch = connection.channel();
        // A write that fails closes the channel: onUpstreamClosed reports it.
        ch.writeAndFlush(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, target, Unpooled.EMPTY_BUFFER,
                headers, EmptyHttpHeaders.INSTANCE), ch.voidPromise());
    }

    @Override
    public void failed(Throwable cause) {
        cancelWait = null;
        fail("cannot connect: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
    }

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        try {
            if (done) {
                return;
            }
            if (msg.decoderResult().isFailure()) {
                fail("malformed answer: " + msg.decoderResult().cause());
                return;
            }
            if (msg instanceof HttpResponse r) {
                onHead(r);
            }
            if (msg instanceof HttpContent c && !done) {
                onContent(c);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(HttpResponse r) {
        int status = r.status().code();
        if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL && status != 101) {
            interim = true; // 100 Continue and the like: the answer follows
            return;
        }
        if (status < 200 || status > 599) {
            fail("answered with status " + status); // a 101 too: a call of Portico's own switches to nothing
            return;
        }
        head = r;
        answer.head(r);
    }

    private void onContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (interim) {
            interim = !last;
            return;
        }
        if (head == null) {
            return;
        }
        if (last) {
            complete();
        }
        answer.content(c.content(), last);
    }

    /** The whole answer is in: the connection goes back to the pool if it may, before the answer hears the end. */
    private void complete() {
        done = true;
        cancelTimer();
        UpstreamConnection c = conn;
        conn = null;
        int status = head.status().code();
        boolean framed = method.equals(HttpMethod.HEAD) || status == 204 || status == 304
                || head.headers().contains(HttpHeaderNames.CONTENT_LENGTH) || HttpUtil.isTransferEncodingChunked(head);
        if (framed && HttpUtil.isKeepAlive(head)) {
            c.release();
        } else {
            c.discard();
        }
    }

    @Override
    public void onUpstreamReadComplete() {
    }

    @Override
    public void onUpstreamWritable() {
    }

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (done) {
            return;
        }
        UpstreamConnection c = conn;
        conn = null;
        if (c != null && c.reused() && head == null && !interim && !retried) {
            retried = true; // the backend dropped an idle connection as it was lent: not its failure
            acquire();
            return;
        }
        fail(cause == null ? "closed the connection before its answer ended" : "connection failed: " + cause);
    }

    @Override
    public void onUpstreamResponseTimeout() {
        fail("no answer in time");
    }

    @Override
    public void onUpstreamIdle() {
        fail("no answer in time");
    }

    /** The call's timer: the backend took longer than the timeout. */
    @Override
    public void run() {
        timer = null;
        fail("no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
    }

    private void fail(String why) {
        if (done) {
            return;
        }
        end();
        answer.failed(why);
    }

    /** Ends the call at once without telling the answer (its requester is gone, or wants no more); any thread. */
    public void cancel() {
        if (!loop.inEventLoop()) {
            loop.execute(this::cancel);
            return;
        }
        if (!done) {
            end();
        }
    }

    private void end() {
        done = true;
        cancelTimer();
        if (cancelWait != null) {
            Runnable w = cancelWait;
            cancelWait = null;
            w.run();
        }
        if (conn != null) {
            UpstreamConnection c = conn;
            conn = null;
            c.discard();
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
