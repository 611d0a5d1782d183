/**
 * Running Portico in production: the admin endpoint ({@code /healthz}, {@code /readyz}, {@code /metrics},
 * {@code /config}, {@code /reload}) on a listener and event loop of its own, and configuration reload (from the
 * admin endpoint, SIGHUP, or a watch on the file), validated off the event loops and applied atomically.
 */
package dev.portico.internal.ops;
