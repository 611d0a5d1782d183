package dev.portico.policy;

import java.util.Objects;

/**
 * What a request phase decided: go on along the chain, answer locally, or wait for a {@link Suspension}.
 * Immutable; {@link #proceed()} and {@link #suspended()} are shared instances, so deciding allocates nothing.
 */
public final class Decision {
    private static final Decision PROCEED = new Decision(null, false);
    private static final Decision SUSPENDED = new Decision(null, true);

    private final LocalResponse response;
    private final boolean suspended;

    private Decision(LocalResponse response, boolean suspended) {
        this.response = response;
        this.suspended = suspended;
    }

    /** @return the decision to let the request go on to the next policy, then the backend */
    public static Decision proceed() {
        return PROCEED;
    }

    /**
     * @param response the answer
     * @return the decision to answer the request here: it never reaches the backend
     */
    public static Decision respond(LocalResponse response) {
        return new Decision(Objects.requireNonNull(response, "response"), false);
    }

    /**
     * @return the decision of a phase that called {@link RequestContext#suspend}: the chain waits until the
     *     suspension is resumed or times out
     */
    public static Decision suspended() {
        return SUSPENDED;
    }

    /** @return the local response, or {@code null} if the request goes on or waits */
    public LocalResponse response() {
        return response;
    }

    /** @return whether the chain waits for a suspension */
    public boolean isSuspended() {
        return suspended;
    }

    /** @return whether the request goes on along the chain */
    public boolean isProceed() {
        return response == null && !suspended;
    }

    @Override
    public String toString() {
        return suspended ? "suspended" : response == null ? "proceed" : "respond " + response.status();
    }
}
