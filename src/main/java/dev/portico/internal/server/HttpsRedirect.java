package dev.portico.internal.server;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Where a {@code redirect_https} listener sends its clients: the same host and target over https, on the port of
 * the first TLS listener (no port in the URL when that is 443, or when there is no TLS listener).
 */
final class HttpsRedirect {
    private volatile int httpsPort = 443;

    /** @param port the port of the first TLS listener, once bound */
    void httpsPort(int port) {
        httpsPort = port;
    }

    /**
     * @param host the request's Host (or absolute-form authority), possibly with a port; {@code null} if none
     * @param pathAndQuery the request's path and query
     * @param local the address the client connected to, used when the request names no host
     * @return the {@code Location} to send
     */
    String location(String host, String pathAndQuery, SocketAddress local) {
        String name;
        if (host == null || host.isEmpty()) {
            InetSocketAddress a = (InetSocketAddress) local;
            String ip = a.getAddress().getHostAddress();
            name = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
        } else if (host.startsWith("[")) {
            name = host.substring(0, host.indexOf(']') + 1);
        } else {
            int colon = host.indexOf(':');
            name = colon < 0 ? host : host.substring(0, colon);
        }
        int port = httpsPort;
        String target = pathAndQuery.startsWith("/") ? pathAndQuery : "/";
        return "https://" + name + (port == 443 ? "" : ":" + port) + target;
    }
}
