package dev.portico.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;

/**
 * A backend's base URL: {@code http://host[:port][/path]} or {@code https://host[:port][/path]}.
 *
 * @param host the backend host (name or IP literal, without brackets)
 * @param port the backend port
 * @param path the path prepended to forwarded targets, without a trailing slash ({@code ""} for none)
 * @param tls whether the backend is reached over TLS ({@code https://})
 */
public record UpstreamUrl(String host, int port, String path, boolean tls) {
    /** Validates the parts. */
    public UpstreamUrl {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(path, "path");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("upstream host is empty");
        }
        ConfigValues.inRange(port, 1, 65535, "upstream port");
        if (!path.isEmpty() && (!path.startsWith("/") || path.endsWith("/"))) {
            throw new IllegalArgumentException("upstream path must start with / and not end with /: \"" + path + "\"");
        }
    }

    /** A plain {@code http://} backend. */
    public UpstreamUrl(String host, int port, String path) {
        this(host, port, path, false);
    }

    /**
     * Parses an {@code http://} or {@code https://} URL. A query or fragment is refused: only a path prefix can be prepended.
     *
     * @param text the URL
     * @return the upstream URL
     */
    public static UpstreamUrl parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("upstream URL is missing");
        }
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: \"" + text + "\"");
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme == null || uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("not a URL: \"" + text + "\"");
        }
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("unsupported upstream scheme \"" + scheme + "\" (only http and https): \""
                    + text + "\"");
        }
        boolean tls = scheme.equals("https");
        int defaultPort = tls ? 443 : 80;
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("upstream URL may not have a query, fragment or user info: \"" + text + "\"");
        }
        String host = uri.getHost();
        int port = uri.getPort();
        if (host == null) {
            // java.net.URI leaves the host null for names it dislikes, such as "my_backend" (common in
            // container networks): take the authority apart ourselves.
            ListenAddress a = ConfigValues.hostPort(uri.getRawAuthority().contains(":")
                    ? uri.getRawAuthority() : uri.getRawAuthority() + ":" + defaultPort);
            if (!a.host().matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("not a URL: \"" + text + "\"");
            }
            host = a.host();
            port = a.port();
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return new UpstreamUrl(host, port < 0 ? defaultPort : port, path, tls);
    }

    /** @return {@code host:port}, bracketing IPv6 literals: the form of a Host header for this backend */
    public String authority() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return (tls ? "https://" : "http://") + authority() + path;
    }

    /**
     * Component by component, as a record compares; written out because the generated form bootstraps method
     * handles at its first use, milliseconds of start-up per record class.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamUrl other && Objects.equals(host, other.host) && port == other.port
                && Objects.equals(path, other.path) && tls == other.tls;
    }

    /** From every component, as a record hashes; see {@link #equals}. */
    @Override
    public int hashCode() {
        return Objects.hash(host, port, path, tls);
    }
}
