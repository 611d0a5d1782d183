/**
 * The exchange: {@link dev.portico.internal.proxy.ProxyExchange} carries one request to a backend and its response back,
 * {@link dev.portico.internal.proxy.HeaderRewriter} builds the forwarded heads, {@link dev.portico.internal.proxy.ProxyFailure} is the
 * one failure taxonomy. After a WebSocket upgrade ({@link dev.portico.internal.proxy.WebSocketUpgrade}) a
 * {@link dev.portico.internal.proxy.Tunnel} carries the bytes of both connections; for an HTTP/2 client's extended
 * CONNECT (RFC 8441) the client's end is its stream.
 *
 * <p>Threading: an exchange, its client channel and its upstream connection live on one event loop; nothing here
 * is touched from another thread, so no field needs a lock or {@code volatile}.
 *
 * <p>Buffers: a request or response part ({@code HttpContent}) belongs to whoever received it until it is written
 * to the other side (the write releases it) or released. An exchange that fails releases what it still holds (its
 * pending request parts) and closes its upstream connection; a connection is pooled again only after a complete
 * response to a completely sent request, with no bytes left over.
 */
package dev.portico.internal.proxy;
