package dev.portico.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * The top-level {@code redis:} section: the Redis server that {@code rate_limit} policies with {@code store: redis}
 * share with every other Portico instance using it. The password is held apart from the URL so that the URL can be
 * logged and shown; a password read from {@code password_file} is part of the record, so a rotated file takes effect
 * on reload.
 *
 * @param url {@code redis://host:port/db} or {@code rediss://...} (TLS), without credentials
 * @param username the ACL user, or {@code ""} for the default user
 * @param password the password, or {@code ""} for none
 * @param timeout how long one command may take; a slower answer counts as a store failure
 */
public record RedisConfig(String url, String username, String password, Duration timeout) {
    /** The command timeout when none is given. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);

    /** Validates the URL (scheme, host, database) and the timeout. */
    public RedisConfig {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(timeout, "timeout");
        URI u = uri(url);
        if (u.getRawUserInfo() != null) {
            throw new IllegalArgumentException("url must not carry credentials here; use of(url) or password");
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
    }

    /**
     * @param url a Redis URL, possibly with {@code user:password@} or {@code :password@}
     * @return the settings with the default timeout, credentials taken out of the URL
     * @throws IllegalArgumentException if the URL is not a redis:// or rediss:// URL
     */
    public static RedisConfig of(String url) {
        return builder(url).build();
    }

    /**
     * @param url a Redis URL, possibly with credentials
     * @return a builder
     */
    public static Builder builder(String url) {
        return new Builder(url);
    }

    /** @return whether commands go over TLS ({@code rediss://}) */
    public boolean tls() {
        return url.startsWith("rediss:");
    }

    /** The password is never printed. */
    @Override
    public String toString() {
        return "RedisConfig[url=" + url + ", username=" + username + ", password=" + (password.isEmpty() ? ""
                : "<redacted>") + ", timeout=" + timeout + "]";
    }

    private static URI uri(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("url: not a URL: \"" + url + "\"");
        }
        if (!"redis".equals(u.getScheme()) && !"rediss".equals(u.getScheme())) {
            throw new IllegalArgumentException("url must start with redis:// or rediss://, got \"" + url + "\"");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException("url names no host: \"" + url + "\"");
        }
        String path = u.getPath() == null ? "" : u.getPath();
        if (!path.isEmpty() && !path.equals("/") && !path.substring(1).matches("\\d{1,4}")) {
            throw new IllegalArgumentException("url: the path is the database number, got \"" + path + "\"");
        }
        if (u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException("url: no query or fragment, got \"" + url + "\"");
        }
        return u;
    }

    /** Builds a {@link RedisConfig}. Not thread-safe. */
    public static final class Builder {
        private final String url;
        private String username = "";
        private String password = "";
        private Duration timeout = DEFAULT_TIMEOUT;

        private Builder(String url) {
            URI u = uri(Objects.requireNonNull(url, "url"));
            String info = u.getRawUserInfo();
            if (info == null) {
                this.url = url;
                return;
            }
            int colon = info.indexOf(':');
            username = decode(colon < 0 ? "" : info.substring(0, colon));
            password = decode(colon < 0 ? info : info.substring(colon + 1));
            this.url = u.getScheme() + "://" + (u.getRawAuthority().substring(info.length() + 1))
                    + (u.getRawPath() == null ? "" : u.getRawPath());
        }

        private static String decode(String s) {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        }

        /**
         * @param value the ACL user name
         * @return this
         */
        public Builder username(String value) {
            this.username = Objects.requireNonNull(value, "username");
            return this;
        }

        /**
         * @param value the password (for {@code password_file}: the file's first line)
         * @return this
         */
        public Builder password(String value) {
            this.password = Objects.requireNonNull(value, "password");
            return this;
        }

        /**
         * @param value the per-command timeout
         * @return this
         */
        public Builder timeout(Duration value) {
            this.timeout = Objects.requireNonNull(value, "timeout");
            return this;
        }

        /** @return the settings */
        public RedisConfig build() {
            return new RedisConfig(url, username, password, timeout);
        }
    }
}
