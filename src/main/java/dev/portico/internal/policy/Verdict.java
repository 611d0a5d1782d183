package dev.portico.internal.policy;

/**
 * One {@code rate_limit} decision, from the local table or from Redis: what the response fields and the 429 say.
 *
 * @param allowed whether the request took a token
 * @param remaining whole tokens left in the bucket
 * @param retryAfterMillis when refused, how long until a token is there
 * @param fullMillis how long until the bucket is full again
 */
record Verdict(boolean allowed, long remaining, long retryAfterMillis, long fullMillis) {
    /** @return {@code Retry-After}: whole seconds, rounded up, at least 1 */
    long retryAfterSeconds() {
        return Math.max(1, (retryAfterMillis + 999) / 1000);
    }

    /** @return seconds until the bucket is full again, rounded up */
    long fullSeconds() {
        return (fullMillis + 999) / 1000;
    }
}
