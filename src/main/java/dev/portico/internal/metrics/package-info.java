/**
 * Portico's metrics: a small facade over a Micrometer Prometheus registry. The data path holds per-route meter
 * sets resolved when the configuration is loaded, so recording an exchange is a few lock-free increments.
 */
package dev.portico.internal.metrics;
