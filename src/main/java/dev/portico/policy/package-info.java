/**
 * The policy API: what runs on a route's chain between the client and the backend. A {@link
 * dev.portico.policy.Policy} sees each request ({@link dev.portico.policy.RequestContext}) before it is forwarded
 * and may let it through, answer it itself ({@link dev.portico.policy.LocalResponse}) or suspend it while it asks
 * someone else ({@link dev.portico.policy.Suspension}); it then sees the response head ({@link
 * dev.portico.policy.ResponseHead}) on the way back, in reverse order (the onion). Portico's built-in policies
 * implement the same interface.
 *
 * <p>Threading: every call of a policy happens on the event loop of the client connection. A policy never blocks;
 * what takes time is asked for asynchronously, and the suspension is resumed from any thread.
 */
package dev.portico.policy;
