package dev.portico.internal.policy;

import dev.portico.internal.upstream.UpstreamCall;
import dev.portico.internal.upstream.UpstreamPool;
import dev.portico.policy.Suspension;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * One request to the auth service: an {@link UpstreamCall} on the client's event loop through that loop's
 * {@link UpstreamPool} (one timer over the whole call, a keep-alive race retried once, the connection given back
 * when the answer allows it), and the decision it leads to. If the client leaves first, the call ends at once.
 * Everything here runs on the event loop, so no field needs a lock; no buffer is held beyond a callback.
 */
final class ForwardAuthCall implements UpstreamCall.Answer {
    private final ForwardAuthPolicy policy;
    private final PolicyRun run;
    private final Suspension suspension;
    private final UpstreamCall call;
    private final ForwardAuthCache.Key key;
    private HttpHeaders allowedFields;
    /** The body of a non-2xx answer being collected; null for a 2xx one, whose body is read and dropped. */
    private ForwardAuthAnswer answer;
    private int status;

    ForwardAuthCall(ForwardAuthPolicy policy, PolicyRun run, Suspension suspension, UpstreamPool pool,
                    HttpMethod method, HttpHeaders headers, ForwardAuthCache.Key key) {
        this.policy = policy;
        this.run = run;
        this.suspension = suspension;
        this.key = key;
        var e = policy.target.endpoint;
        this.call = new UpstreamCall(run.loop(), pool, e, 0, 0, method, policy.target.target, headers,
                policy.timeoutNanos, this);
    }

    void start() {
        run.onCancel(call::cancel);
        call.start();
    }

    @Override
    public void head(HttpResponse r) {
        status = r.status().code();
        if (r.status().codeClass() == HttpStatusClass.SUCCESS) {
            allowedFields = r.headers();
        } else {
            answer = new ForwardAuthAnswer(r);
        }
    }

    @Override
    public void content(ByteBuf content, boolean last) {
        if (answer != null) {
            answer.append(content);
        }
        if (!last) {
            return;
        }
        if (answer == null) {
            policy.allowed(run, allowedFields, key);
            suspension.proceed();
            return;
        }
        if (answer.tooLong()) {
            policy.warnTooLong(status);
        }
        suspension.respond(answer.response());
    }

    @Override
    public void failed(String why) {
        policy.failed(run, suspension, why);
    }
}
