/**
 * Backend connections. Each event loop has its own {@link dev.portico.internal.upstream.UpstreamPool}, so a pooled
 * connection never leaves the thread of the client connections it serves and the pool needs no locks. A pooled
 * connection keeps reading, so a backend's close (or a stray byte, which could be a smuggled response) is
 * seen at once and the connection is dropped before anyone borrows it. Requests Portico makes on its own (an auth
 * service's verdict, a cache's background revalidation) borrow them through
 * {@link dev.portico.internal.upstream.UpstreamCall}.
 */
package dev.portico.internal.upstream;
