/**
 * Distributed tracing: OpenTelemetry spans for requests (SERVER) and their upstream tries (CLIENT), exported over
 * OTLP by the SDK's batch processor on its own thread. Nothing here is loaded or allocated while {@code tracing.otlp}
 * is not configured, and a request the sampler leaves out never reaches the SDK. Spans are made and ended on the
 * exchange's event loop; only export leaves it.
 */
package dev.portico.internal.trace;
