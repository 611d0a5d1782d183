package dev.portico.config;

import dev.portico.policy.Headers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code forward_auth} policy (the semantics of nginx's {@code auth_request} and Traefik's forwardAuth): each
 * request is first put to an authentication service, as a request to {@code url} with the original method, no body,
 * {@code X-Forwarded-Method}, {@code -Proto}, {@code -Host}, {@code -Uri} and {@code -For}, and the copied request
 * fields. A 2xx answer lets the request through with {@code copyResponseHeaders} set on it (replacing any the client
 * sent); any other answer goes to the client as it is (status, fields, a body up to 64 KiB), so a 302 to a login
 * page works. An auth service that cannot be reached, resets, answers garbage or not within {@code timeout} is a
 * failure: {@code onFailure} decides.
 *
 * @param url the auth service, {@code http://} or {@code https://}, with its path and optional query
 * @param copyRequestHeaders the request fields sent to the auth service; {@link #ALL_REQUEST_HEADERS} (the
 *     default) sends every field but hop-by-hop and framing ones
 * @param copyResponseHeaders the fields of a 2xx answer set on the request to the backend
 * @param timeout how long the whole auth call (connect, request, answer) may take
 * @param onFailure what happens when the auth service fails
 * @param cache how long a 2xx decision is reused for a request the auth service would see identically (the same
 *     method, {@code X-Forwarded-*} values and copied fields); zero for no cache
 */
public record ForwardAuthPolicyConfig(String url, List<String> copyRequestHeaders, List<String> copyResponseHeaders,
                                      Duration timeout, OnFailure onFailure, Duration cache) implements PolicyConfig {
    /** The {@code copy_request_headers} default: every request field except hop-by-hop and framing fields. */
    public static final List<String> ALL_REQUEST_HEADERS = List.of("*");
    /** The default {@code timeout}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    /** Fields never copied to the auth service: hop-by-hop, framing, and the Host (sent as X-Forwarded-Host). */
    private static final Set<String> NEVER_COPIED = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade", "content-length", "host", "expect");

    /** What a request gets when the auth service fails. */
    public enum OnFailure {
        /** Answer 503; nothing reaches the backend. */
        DENY,
        /** Let the request through (without any {@code copy_response_headers} field). */
        ALLOW
    }

    /** Validates the URL, the field names and the durations. */
    public ForwardAuthPolicyConfig {
        Objects.requireNonNull(url, "url");
        copyRequestHeaders = List.copyOf(copyRequestHeaders);
        copyResponseHeaders = List.copyOf(copyResponseHeaders);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(onFailure, "on_failure");
        Objects.requireNonNull(cache, "cache");
        checkUrl(url);
        if (!copyRequestHeaders.equals(ALL_REQUEST_HEADERS)) {
            for (String h : copyRequestHeaders) {
                if (!Headers.isFieldName(h) || h.equals("*")) {
                    throw new IllegalArgumentException("copy_request_headers has \"" + h + "\", not a field name "
                            + "(\"*\" alone means every field)");
                }
                if (NEVER_COPIED.contains(h.toLowerCase(Locale.ROOT))) {
                    throw new IllegalArgumentException("copy_request_headers names " + h + ", which is never copied "
                            + "(hop-by-hop or framing; the Host goes as X-Forwarded-Host)");
                }
            }
        }
        for (String h : copyResponseHeaders) {
            if (!Headers.isFieldName(h)) {
                throw new IllegalArgumentException("copy_response_headers has \"" + h + "\", not a field name");
            }
            if (NEVER_COPIED.contains(h.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("copy_response_headers names " + h + ", which cannot be set on "
                        + "a request");
            }
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        if (cache.isNegative()) {
            throw new IllegalArgumentException("cache must not be negative");
        }
    }

    private static void checkUrl(String url) {
        if (url.indexOf('#') >= 0) {
            throw new IllegalArgumentException("url may not have a fragment: \"" + url + "\"");
        }
        int q = url.indexOf('?');
        try {
            UpstreamUrl.parse(q < 0 ? url : url.substring(0, q));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("url " + e.getMessage().replace("upstream ", ""));
        }
    }

    /** @return whether every request field (but hop-by-hop and framing ones) is copied */
    public boolean copiesAllRequestHeaders() {
        return copyRequestHeaders.equals(ALL_REQUEST_HEADERS);
    }

    /**
     * @param name a field name
     * @return whether the field is never sent to the auth service, whatever {@code copy_request_headers} says
     */
    public static boolean neverCopied(String name) {
        return NEVER_COPIED.contains(name.toLowerCase(Locale.ROOT));
    }

    /**
     * @param url the auth service
     * @return a builder with the defaults: every request field copied, no response field, 2 s, deny, no cache
     */
    public static Builder builder(String url) {
        return new Builder(url);
    }

    @Override
    public String type() {
        return "forward_auth";
    }

    /** Builds {@link ForwardAuthPolicyConfig}. Not thread-safe. */
    public static final class Builder {
        private final String url;
        private List<String> requestHeaders = ALL_REQUEST_HEADERS;
        private final List<String> responseHeaders = new ArrayList<>();
        private Duration timeout = DEFAULT_TIMEOUT;
        private OnFailure onFailure = OnFailure.DENY;
        private Duration cache = Duration.ZERO;

        private Builder(String url) {
            this.url = url;
        }

        /**
         * @param names the request fields to send to the auth service, instead of all of them (none for none)
         * @return this
         */
        public Builder copyRequestHeaders(String... names) {
            this.requestHeaders = List.of(names);
            return this;
        }

        /**
         * @param names fields of a 2xx answer to set on the request to the backend
         * @return this
         */
        public Builder copyResponseHeaders(String... names) {
            responseHeaders.addAll(List.of(names));
            return this;
        }

        /**
         * @param value how long the auth call may take
         * @return this
         */
        public Builder timeout(Duration value) {
            this.timeout = value;
            return this;
        }

        /**
         * @param value what happens when the auth service fails
         * @return this
         */
        public Builder onFailure(OnFailure value) {
            this.onFailure = value;
            return this;
        }

        /**
         * @param value how long a 2xx decision is reused; zero for never
         * @return this
         */
        public Builder cache(Duration value) {
            this.cache = value;
            return this;
        }

        /** @return the policy */
        public ForwardAuthPolicyConfig build() {
            return new ForwardAuthPolicyConfig(url, requestHeaders, responseHeaders, timeout, onFailure, cache);
        }
    }
}
