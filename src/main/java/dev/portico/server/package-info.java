/**
 * The client side: listeners, the client pipeline ({@link dev.portico.server.FrontendInitializer}) and the
 * {@link dev.portico.server.FrontendHandler} that validates and routes each request and hands it to a
 * {@link dev.portico.proxy.ProxyExchange}. {@code AUTO_READ} is off: a client is read only when the exchange can take
 * more, or when the connection waits for its next request.
 */
package dev.portico.server;
