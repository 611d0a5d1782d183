/**
 * The {@code cache} policy: an RFC 9111 shared cache in memory. {@link dev.portico.internal.cache.Freshness} holds
 * the rules as pure functions; {@link dev.portico.internal.cache.CacheStore} the entries (bounded by bytes, least
 * recently used evicted) and the fills under way; {@link dev.portico.internal.cache.CachePolicy} the request and
 * response phases. The exchange reaches the cache only through {@link dev.portico.internal.cache.ExchangeHooks};
 * for its own background revalidations ({@link dev.portico.internal.cache.Revalidation}) the cache uses the route's
 * upstream group and the event loop's pool, given as an {@link dev.portico.internal.cache.Origin}, and
 * {@link dev.portico.internal.upstream.UpstreamCall}. It depends on no other of Portico's implementation packages.
 */
package dev.portico.internal.cache;
