package dev.portico.internal.policy;

import dev.portico.internal.upstream.UpstreamConnection;
import dev.portico.internal.upstream.UpstreamListener;
import dev.portico.internal.upstream.UpstreamPool;
import dev.portico.policy.Suspension;
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
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One request to the auth service, on the client's event loop through that loop's {@link UpstreamPool}, like an
 * exchange's try: borrow a connection (pooled or new), write the bodiless request, read the answer, give the
 * connection back when the answer allows keep-alive (else close it), and decide. One timer covers the whole call.
 * A pooled connection that the service closed before any byte of the answer (a keep-alive race) is retried once on
 * a new one. If the client leaves first, the call ends at once: the connection is closed, a queued wait given up.
 * Everything here runs on the event loop, so no field needs a lock; no buffer is held beyond a callback.
 */
final class ForwardAuthCall implements UpstreamListener, UpstreamPool.Callback, Runnable {
    private final ForwardAuthPolicy policy;
    private final PolicyRun run;
    private final Suspension suspension;
    private final UpstreamPool pool;
    private final HttpMethod method;
    private final HttpHeaders headers;
    private final ForwardAuthCache.Key key;
    private ScheduledFuture<?> timer;
    private Runnable cancelWait;
    private UpstreamConnection conn;
    private HttpResponse head;
    /** The body of a non-2xx answer being collected; null for a 2xx one, whose body is read and dropped. */
    private ForwardAuthAnswer answer;
    private boolean interim;
    private boolean retried;
    private boolean done;

    ForwardAuthCall(ForwardAuthPolicy policy, PolicyRun run, Suspension suspension, UpstreamPool pool,
                    HttpMethod method, HttpHeaders headers, ForwardAuthCache.Key key) {
        this.policy = policy;
        this.run = run;
        this.suspension = suspension;
        this.pool = pool;
        this.method = method;
        this.headers = headers;
        this.key = key;
        if (method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.PATCH)) {
            headers.set(HttpHeaderNames.CONTENT_LENGTH, "0"); // the method expects a body: say it is empty
        }
    }

    void start() {
        run.onCancel(this::abort);
        timer = run.loop().schedule(this, policy.timeoutNanos, TimeUnit.NANOSECONDS);
        acquire();
    }

    private void acquire() {
        var e = policy.target.endpoint;
        Runnable wait = pool.acquire(e, e.tls(), 0, 0, this, this);
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
        ch.writeAndFlush(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, policy.target.target,
                Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE), ch.voidPromise());
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
            fail("answered with status " + status);
            return;
        }
        head = r;
        if (r.status().codeClass() != HttpStatusClass.SUCCESS) {
            answer = new ForwardAuthAnswer(r);
        }
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
        if (answer != null) {
            answer.append(c.content());
        }
        if (last) {
            complete();
        }
    }

    /** The whole answer is in: the connection goes back to the pool if it may, then the decision. */
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
        if (answer == null) {
            policy.allowed(run, head.headers(), key);
            suspension.proceed();
            return;
        }
        if (answer.tooLong()) {
            policy.warnTooLong(status);
        }
        suspension.respond(answer.response());
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
            retried = true; // the service dropped an idle connection as it was lent: not its failure
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

    /** The call's timer: the auth service took longer than {@code timeout}. */
    @Override
    public void run() {
        timer = null;
        fail("no answer within " + TimeUnit.NANOSECONDS.toMillis(policy.timeoutNanos) + " ms");
    }

    private void fail(String why) {
        if (done) {
            return;
        }
        end();
        policy.failed(run, suspension, why);
    }

    /** The client left while waiting: let go of everything, decide nothing. */
    private void abort() {
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
