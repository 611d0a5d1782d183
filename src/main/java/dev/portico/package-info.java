/**
 * Portico's entry points: {@link dev.portico.ProxyServer} for embedding, {@link dev.portico.PorticoMain} for the
 * command line.
 */
package dev.portico;
