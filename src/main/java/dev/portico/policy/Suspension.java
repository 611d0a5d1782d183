package dev.portico.policy;

/**
 * A request waiting for an asynchronous decision (an authentication server, a shared rate-limit store). Obtained
 * from {@link RequestContext#suspend}; the phase then returns {@link Decision#suspended()}. Either method may be
 * called from any thread, once: the first call (or the timeout, whichever comes first) decides, later calls do
 * nothing, and so do calls after the client went away. The exchange resumes on its own event loop.
 */
public interface Suspension {
    /** Lets the request go on along the chain. */
    void proceed();

    /**
     * Answers the request locally.
     *
     * @param response the answer
     */
    void respond(LocalResponse response);

    /**
     * Ends the request as a failure of the policy: 500 if {@code cause} is not one the policy answers itself,
     * logged with the route.
     *
     * @param cause what went wrong
     */
    void fail(Throwable cause);
}
