/**
 * The policy chain at work: Portico's built-in policies (each implementing the public {@link
 * dev.portico.policy.Policy}), the chain a route runs, the per-request context the policies see, and the registry
 * that keeps policy instances across reloads; and the response body's per-part transforms a response phase may
 * set ({@link dev.portico.internal.policy.BodyTransform}: compression), which the code streaming the body applies
 * under the same backpressure. Not API: everything here may change.
 */
package dev.portico.internal.policy;
