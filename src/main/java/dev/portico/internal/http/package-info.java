/**
 * HTTP pieces shared by the client side and the backend side of the proxy, with no dependency on either.
 */
package dev.portico.internal.http;
