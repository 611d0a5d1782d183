package dev.portico.config;

import java.util.Objects;

/**
 * An address a listener binds: a host name or IP literal, and a port (0 binds an ephemeral port).
 *
 * @param host the host to bind, e.g. {@code 127.0.0.1}
 * @param port the port, 0 to 65535
 */
public record ListenAddress(String host, int port) {
    /** Validates both parts. */
    public ListenAddress {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("listen host is empty");
        }
        ConfigValues.inRange(port, 0, 65535, "port");
    }

    /**
     * @param text {@code host:port}, with IPv6 hosts in brackets
     * @return the parsed address
     */
    public static ListenAddress parse(String text) {
        return ConfigValues.hostPort(text);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
