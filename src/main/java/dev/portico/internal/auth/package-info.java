/**
 * Authentication primitives the {@code basic_auth} and {@code jwt} policies share: password hashes, htpasswd files,
 * public keys, key sets fetched over HTTP, keyed credential digests and a bounded cache with expiry. Nothing here
 * knows the configuration records, so the configuration can validate with it and the policies run on it.
 */
package dev.portico.internal.auth;
