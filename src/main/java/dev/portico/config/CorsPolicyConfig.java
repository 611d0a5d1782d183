package dev.portico.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code cors} policy (the Fetch standard's CORS protocol). A preflight from an allowed origin is answered by
 * Portico with 204 and not forwarded; one from another origin is forwarded untouched. Responses to requests from
 * an allowed origin carry the CORS fields, replacing any the backend sent.
 *
 * @param allowOrigins exact origins ({@code https://app.example}), {@code *}, or regular expressions written
 *     {@code ~^https://.*\.example\.com$}
 * @param allowMethods methods a preflight may ask for
 * @param allowHeaders request fields a preflight may ask for; {@code *} allows any
 * @param exposeHeaders response fields scripts may read
 * @param maxAge how long browsers may cache a preflight answer; zero sends no {@code Access-Control-Max-Age}
 * @param allowCredentials whether credentialed requests are allowed (not with {@code *})
 */
public record CorsPolicyConfig(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
                               List<String> exposeHeaders, Duration maxAge, boolean allowCredentials)
        implements PolicyConfig {
    /** The methods allowed when none are given: the CORS-safelisted ones. */
    public static final List<String> DEFAULT_METHODS = List.of("GET", "HEAD", "POST");

    /** Validates origins, methods and field names. */
    public CorsPolicyConfig {
        allowOrigins = List.copyOf(allowOrigins);
        allowMethods = List.copyOf(allowMethods);
        allowHeaders = List.copyOf(allowHeaders);
        exposeHeaders = List.copyOf(exposeHeaders);
        Objects.requireNonNull(maxAge, "max_age");
        if (allowOrigins.isEmpty()) {
            throw new IllegalArgumentException("allow_origins must name at least one origin");
        }
        for (String o : allowOrigins) {
            checkOrigin(o);
        }
        if (allowCredentials && allowOrigins.contains("*")) {
            throw new IllegalArgumentException("allow_credentials cannot go with allow_origins \"*\" (browsers "
                    + "refuse credentials for a wildcard origin); list the origins");
        }
        for (String m : allowMethods) {
            if (!dev.portico.policy.Headers.isFieldName(m)) {
                throw new IllegalArgumentException("allow_methods: not a method: \"" + m + "\"");
            }
        }
        for (String h : allowHeaders) {
            if (!h.equals("*") && !dev.portico.policy.Headers.isFieldName(h)) {
                throw new IllegalArgumentException("allow_headers: not a field name: \"" + h + "\"");
            }
        }
        for (String h : exposeHeaders) {
            if (!dev.portico.policy.Headers.isFieldName(h)) {
                throw new IllegalArgumentException("expose_headers: not a field name: \"" + h + "\"");
            }
        }
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("max_age must not be negative");
        }
    }

    private static void checkOrigin(String o) {
        if (o.equals("*")) {
            return;
        }
        if (o.startsWith("~")) {
            try {
                Pattern.compile(o.substring(1));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("allow_origins: not a regular expression: \"" + o + "\": "
                        + e.getDescription());
            }
            return;
        }
        int scheme = o.indexOf("://");
        boolean ok = scheme > 0 && o.indexOf('/', scheme + 3) < 0 && o.length() > scheme + 3
                && o.equals(o.toLowerCase(Locale.ROOT)) && !o.endsWith(":");
        if (!ok && !o.equals("null")) {
            throw new IllegalArgumentException("allow_origins: not an origin (scheme://host[:port], lower case, "
                    + "no path): \"" + o + "\"");
        }
    }

    /**
     * @param origins the allowed origins
     * @return a builder with the default methods and no other settings
     */
    public static Builder builder(String... origins) {
        return new Builder(List.of(origins));
    }

    @Override
    public String type() {
        return "cors";
    }

    /** Builds {@link CorsPolicyConfig}. Not thread-safe. */
    public static final class Builder {
        private final List<String> origins;
        private List<String> methods = DEFAULT_METHODS;
        private final List<String> headers = new ArrayList<>();
        private final List<String> expose = new ArrayList<>();
        private Duration maxAge = Duration.ZERO;
        private boolean credentials;

        private Builder(List<String> origins) {
            this.origins = origins;
        }

        /**
         * @param value methods a preflight may ask for
         * @return this
         */
        public Builder allowMethods(String... value) {
            this.methods = List.of(value);
            return this;
        }

        /**
         * @param value request fields a preflight may ask for
         * @return this
         */
        public Builder allowHeaders(String... value) {
            headers.addAll(List.of(value));
            return this;
        }

        /**
         * @param value response fields scripts may read
         * @return this
         */
        public Builder exposeHeaders(String... value) {
            expose.addAll(List.of(value));
            return this;
        }

        /**
         * @param value how long a preflight answer may be cached
         * @return this
         */
        public Builder maxAge(Duration value) {
            this.maxAge = value;
            return this;
        }

        /**
         * @param value whether credentialed requests are allowed
         * @return this
         */
        public Builder allowCredentials(boolean value) {
            this.credentials = value;
            return this;
        }

        /** @return the policy */
        public CorsPolicyConfig build() {
            return new CorsPolicyConfig(origins, methods, headers, expose, maxAge, credentials);
        }
    }
}
