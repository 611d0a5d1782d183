package dev.portico.policy;

import java.net.InetAddress;
import java.time.Duration;

/**
 * One request as the policies see it. Valid for the request's lifetime; used on the client connection's event
 * loop only (a {@link Suspension} is the way back from another thread).
 */
public interface RequestContext {
    /** @return the request method, e.g. {@code GET} */
    String method();

    /**
     * @return the path that goes to the backend (before the route's upstream path is prepended): the received path
     *     unless a policy rewrote it
     */
    String path();

    /** @return the path as received, before any rewrite */
    String originalPath();

    /** @return the query with its leading {@code ?}, or {@code ""} when there is none */
    String query();

    /** @return the request's host, lower case, without its port ({@code ""} if the request named none) */
    String host();

    /** @return {@code https} for a request that came over TLS, else {@code http} */
    String scheme();

    /** @return the protocol the client spoke, e.g. {@code HTTP/1.1} or {@code HTTP/2.0} */
    String protocol();

    /**
     * @return the client's address: the connection's peer, or the address that trusted proxies (the
     *     {@code trusted_proxies} setting) and the PROXY protocol name
     */
    InetAddress clientAddress();

    /** @return the client address as text, e.g. {@code 203.0.113.7} */
    String clientIp();

    /** @return the request id, or {@code ""} when request ids are off */
    String requestId();

    /** @return the matched route's path prefix, or {@code ""} for a response without a route */
    String route();

    /** @return the request's header fields; a request phase's changes reach the backend */
    Headers headers();

    /**
     * Rewrites the path sent to the backend (the query is kept as it is).
     *
     * @param path an origin-form path, starting with {@code /}
     * @throws IllegalArgumentException if it is not a valid origin-form path
     */
    void setPath(String path);

    /**
     * Suspends the chain: the request body is not read, and nothing is forwarded, until the suspension decides.
     * The phase that calls this returns {@link Decision#suspended()}.
     *
     * @param timeout how long to wait; when it passes the request is answered with 504
     * @return the handle to resume with, from any thread
     * @throws IllegalStateException if called outside a request phase, or twice in one
     */
    Suspension suspend(Duration timeout);

    /**
     * Keeps a value for this request, for the policy's response phase.
     *
     * @param owner the policy the value belongs to (one value per policy)
     * @param value the value, {@code null} to remove it
     */
    void attach(Policy owner, Object value);

    /**
     * @param owner the policy
     * @return the value {@code owner} attached, or {@code null}
     */
    Object attachment(Policy owner);
}
