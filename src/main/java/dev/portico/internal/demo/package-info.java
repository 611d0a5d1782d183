/** The built-in demo backends that {@code --demo} starts next to the proxy. */
package dev.portico.internal.demo;
