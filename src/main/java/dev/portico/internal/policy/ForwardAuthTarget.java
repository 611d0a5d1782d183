package dev.portico.internal.policy;

import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamTlsConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.tls.UpstreamTlsClient;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Where a {@code forward_auth} policy sends its requests: the auth service's endpoint (resolved once, when the
 * policy is made on the configuration thread, never on an event loop), the {@code Host} to send and the request
 * target. Immutable.
 */
final class ForwardAuthTarget {
    final Endpoint endpoint;
    /** The Host field: the URL's authority, without a default port. */
    final String host;
    /** The origin-form target: the URL's path (or {@code /}) and query. */
    final String target;
    final String url;

    private ForwardAuthTarget(Endpoint endpoint, String host, String target, String url) {
        this.endpoint = endpoint;
        this.host = host;
        this.target = target;
        this.url = url;
    }

    /**
     * @param url the validated {@code url} setting
     * @param handshakeMillis the longest a TLS handshake may take
     * @return the target, its host name resolved
     * @throws UncheckedIOException if the host name does not resolve
     */
    static ForwardAuthTarget of(String url, long handshakeMillis) {
        int q = url.indexOf('?');
        UpstreamUrl u = UpstreamUrl.parse(q < 0 ? url : url.substring(0, q));
        String rawPath = URI.create(q < 0 ? url : url.substring(0, q)).getRawPath();
        String target = (rawPath == null || rawPath.isEmpty() ? "/" : rawPath) + (q < 0 ? "" : url.substring(q));
        InetAddress address;
        try {
            address = InetAddress.getByName(u.host());
        } catch (UnknownHostException e) {
            throw new UncheckedIOException("forward_auth: cannot resolve the host of " + url, e);
        }
        UpstreamTlsClient tls = u.tls() ? new UpstreamTlsClient(UpstreamTlsConfig.DEFAULTS, u.host(), u.port(),
                handshakeMillis, "forward_auth.url") : null;
        Endpoint endpoint = new Endpoint(new ServerConfig(u, 1), new InetSocketAddress(address, u.port()), tls);
        boolean defaultPort = u.port() == (u.tls() ? 443 : 80);
        String hostName = u.host().indexOf(':') >= 0 ? "[" + u.host() + "]" : u.host();
        return new ForwardAuthTarget(endpoint, defaultPort ? hostName : hostName + ":" + u.port(), target, url);
    }
}
