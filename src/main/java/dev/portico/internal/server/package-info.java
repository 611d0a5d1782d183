/**
 * The client side: listeners, the client pipeline ({@link dev.portico.internal.server.FrontendInitializer}) and the
 * {@link dev.portico.internal.server.FrontendHandler} that validates and routes each request and hands it to a
 * {@link dev.portico.internal.proxy.ProxyExchange}. Reads follow demand: {@code AUTO_READ} is switched off
 * while a request body cannot move on (the backend is not writable or not yet connected) or a pipelined request
 * waits, and on again when it can; ordinary request/response cycles never touch it.
 *
 * <p>HTTP/2 ({@link dev.portico.internal.server.Http2Frontend}, on listeners with {@code h2c} via
 * {@link dev.portico.internal.server.H2c}): each stream is state on the connection's
 * {@link dev.portico.internal.server.Http2Streams}, an {@link dev.portico.internal.server.Http2StreamHost} that plays
 * the frontend handler's part for one request in frames, on the connection's event loop. HTTP/3 streams are QUIC
 * stream channels whose {@link dev.portico.internal.server.Http3StreamHandler} does the same.
 */
package dev.portico.internal.server;
