package dev.portico.config;

import java.util.Objects;

/**
 * An address a listener binds: a host name or IP literal, and a port (0 binds an ephemeral port).
 *
 * @param host the host to bind, e.g. {@code 127.0.0.1}
 * @param port the port, 0 to 65535
 * @param h2c whether the listener also speaks cleartext HTTP/2 (prior knowledge and the h2c upgrade)
 */
public record ListenAddress(String host, int port, boolean h2c) {
    /** Validates both parts. */
    public ListenAddress {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("listen host is empty");
        }
        ConfigValues.inRange(port, 0, 65535, "port");
    }

    /**
     * An HTTP/1.1-only listener.
     *
     * @param host the host to bind
     * @param port the port, 0 to 65535
     */
    public ListenAddress(String host, int port) {
        this(host, port, false);
    }

    /**
     * @param enabled whether the listener speaks cleartext HTTP/2 too
     * @return this address with {@code h2c} set
     */
    public ListenAddress withH2c(boolean enabled) {
        return new ListenAddress(host, port, enabled);
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

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof ListenAddress other && Objects.equals(host, other.host) && port == other.port
                && h2c == other.h2c;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(host, port, h2c);
    }
}
