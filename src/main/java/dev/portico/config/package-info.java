/**
 * Portico's configuration model: immutable records validated on construction, their builders, and the YAML
 * loader. The loader and the builders call the same validators in {@link dev.portico.config.ConfigValues}, so a
 * {@link dev.portico.config.ProxyConfig} that exists is valid, whichever road produced it.
 */
package dev.portico.config;
