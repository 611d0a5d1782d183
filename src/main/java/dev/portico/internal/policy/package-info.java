/**
 * The policy chain at work: Portico's built-in policies (each implementing the public {@link
 * dev.portico.policy.Policy}), the chain a route runs, the per-request context the policies see, and the registry
 * that keeps policy instances across reloads. Not API: everything here may change.
 */
package dev.portico.internal.policy;
