package dev.portico.internal.policy;

import dev.portico.policy.LocalResponse;
import dev.portico.policy.Suspension;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A suspension of a {@link PolicyRun}: decided once, from any thread; the run resumes on its event loop. Its
 * timeout starts when the phase that suspended returns ({@link #arm}), and fails it with a
 * {@link TimeoutException} (answered 504).
 */
final class PolicyWait implements Suspension, Runnable {
    private final PolicyRun run;
    private final EventExecutor loop;
    private final long timeoutNanos;
    private final AtomicBoolean decided = new AtomicBoolean();
    private volatile LocalResponse response;
    private volatile Throwable failure;
    private volatile String policy;
    private ScheduledFuture<?> timer;

    PolicyWait(PolicyRun run, EventExecutor loop, long timeoutNanos) {
        this.run = run;
        this.loop = loop;
        this.timeoutNanos = timeoutNanos;
    }

    /** On the loop, after the phase returned: the timeout starts now, unless it was decided already. */
    void arm(String name) {
        policy = name;
        if (!decided.get()) {
            timer = loop.schedule(() -> fail(new TimeoutException("policy " + name + " did not decide within "
                    + Duration.ofNanos(timeoutNanos).toMillis() + " ms")), timeoutNanos, TimeUnit.NANOSECONDS);
        } else {
            loop.execute(this);
        }
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /** @return the answer it decided on, or {@code null} */
    LocalResponse response() {
        return response;
    }

    /** @return why it failed, or {@code null} */
    Throwable failure() {
        return failure;
    }

    /** @return the name of the policy that suspended */
    String policy() {
        return policy;
    }

    @Override
    public void proceed() {
        decide(null, null);
    }

    @Override
    public void respond(LocalResponse r) {
        decide(Objects.requireNonNull(r, "response"), null);
    }

    @Override
    public void fail(Throwable cause) {
        decide(null, Objects.requireNonNull(cause, "cause"));
    }

    private void decide(LocalResponse r, Throwable f) {
        if (!decided.compareAndSet(false, true)) {
            return;
        }
        response = r;
        failure = f;
        if (policy != null) {
            loop.execute(this); // armed: resume now; else arm() does when the phase returns
        }
    }

    @Override
    public void run() {
        cancelTimer();
        run.resumed(this);
    }
}
