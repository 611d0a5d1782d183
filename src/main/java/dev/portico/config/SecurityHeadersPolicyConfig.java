package dev.portico.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code security_headers} policy: response fields that harden browsers, on every response of the route
 * (Portico's own errors too). Each field is sent unless its value is empty; HSTS only on responses to TLS
 * connections and only with a positive max age. Start from a preset and change single fields with
 * {@link #builder(String)}.
 *
 * @param contentTypeOptions {@code X-Content-Type-Options}
 * @param frameOptions {@code X-Frame-Options}
 * @param referrerPolicy {@code Referrer-Policy}
 * @param hstsMaxAge {@code Strict-Transport-Security} max-age, zero for none
 * @param hstsIncludeSubdomains the HSTS {@code includeSubDomains} directive
 * @param hstsPreload the HSTS {@code preload} directive
 * @param crossOriginOpenerPolicy {@code Cross-Origin-Opener-Policy}
 * @param permissionsPolicy {@code Permissions-Policy}
 * @param contentSecurityPolicy {@code Content-Security-Policy}
 * @param override whether Portico's values replace the backend's ({@code mode: override}); by default a field the
 *     backend sent is kept ({@code mode: set_if_absent})
 */
public record SecurityHeadersPolicyConfig(String contentTypeOptions, String frameOptions, String referrerPolicy,
                                          Duration hstsMaxAge, boolean hstsIncludeSubdomains, boolean hstsPreload,
                                          String crossOriginOpenerPolicy, String permissionsPolicy,
                                          String contentSecurityPolicy, boolean override) implements PolicyConfig {
    /** The {@code strict} preset's {@code Permissions-Policy}: powerful features off for every origin. */
    public static final String STRICT_PERMISSIONS = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
            + "magnetometer=(), microphone=(), payment=(), usb=()";

    /** Checks every value is a valid field value. */
    public SecurityHeadersPolicyConfig {
        check(contentTypeOptions, "content_type_options");
        check(frameOptions, "frame_options");
        check(referrerPolicy, "referrer_policy");
        check(crossOriginOpenerPolicy, "cross_origin_opener_policy");
        check(permissionsPolicy, "permissions_policy");
        check(contentSecurityPolicy, "content_security_policy");
        Objects.requireNonNull(hstsMaxAge, "hsts.max_age");
        if (hstsMaxAge.isNegative()) {
            throw new IllegalArgumentException("hsts.max_age must not be negative");
        }
        if (hstsPreload && (hstsMaxAge.compareTo(Duration.ofDays(365)) < 0 || !hstsIncludeSubdomains)) {
            throw new IllegalArgumentException("hsts.preload needs max_age of at least 365 days and "
                    + "include_subdomains (the preload list's rules)");
        }
    }

    private static void check(String value, String key) {
        Objects.requireNonNull(value, key);
        if (!dev.portico.policy.Headers.isFieldValue(value)) {
            throw new IllegalArgumentException(key + " is not a valid field value");
        }
    }

    /** @return the {@code Strict-Transport-Security} value, or {@code ""} for none */
    public String hstsValue() {
        if (hstsMaxAge.isZero()) {
            return "";
        }
        return "max-age=" + hstsMaxAge.toSeconds() + (hstsIncludeSubdomains ? "; includeSubDomains" : "")
                + (hstsPreload ? "; preload" : "");
    }

    /**
     * @param preset {@code basic} or {@code strict}
     * @return a builder holding the preset's values
     */
    public static Builder builder(String preset) {
        return new Builder(preset);
    }

    @Override
    public String type() {
        return "security_headers";
    }

    /** Builds {@link SecurityHeadersPolicyConfig} from a preset. Not thread-safe. */
    public static final class Builder {
        private String contentTypeOptions = "nosniff";
        private String frameOptions = "SAMEORIGIN";
        private String referrerPolicy = "strict-origin-when-cross-origin";
        private Duration hstsMaxAge = Duration.ZERO;
        private boolean hstsIncludeSubdomains;
        private boolean hstsPreload;
        private String crossOriginOpenerPolicy = "";
        private String permissionsPolicy = "";
        private String contentSecurityPolicy = "";
        private boolean override;

        private Builder(String preset) {
            switch (Objects.requireNonNull(preset, "preset").toLowerCase(Locale.ROOT)) {
                case "basic":
                    break;
                case "strict":
                    frameOptions = "DENY";
                    hstsMaxAge = Duration.ofDays(365);
                    hstsIncludeSubdomains = true;
                    crossOriginOpenerPolicy = "same-origin";
                    permissionsPolicy = STRICT_PERMISSIONS;
                    break;
                default:
                    throw new IllegalArgumentException("preset must be basic or strict, got \"" + preset + "\"");
            }
        }

        /**
         * @param maxAge HSTS max age, zero for no HSTS
         * @param includeSubdomains the {@code includeSubDomains} directive
         * @param preload the {@code preload} directive
         * @return this
         */
        public Builder hsts(Duration maxAge, boolean includeSubdomains, boolean preload) {
            this.hstsMaxAge = maxAge;
            this.hstsIncludeSubdomains = includeSubdomains;
            this.hstsPreload = preload;
            return this;
        }

        /**
         * @param value {@code X-Frame-Options}, {@code ""} for none
         * @return this
         */
        public Builder frameOptions(String value) {
            this.frameOptions = value;
            return this;
        }

        /**
         * @param value {@code Referrer-Policy}, {@code ""} for none
         * @return this
         */
        public Builder referrerPolicy(String value) {
            this.referrerPolicy = value;
            return this;
        }

        /**
         * @param value {@code Permissions-Policy}, {@code ""} for none
         * @return this
         */
        public Builder permissionsPolicy(String value) {
            this.permissionsPolicy = value;
            return this;
        }

        /**
         * @param value {@code Content-Security-Policy}, {@code ""} for none
         * @return this
         */
        public Builder contentSecurityPolicy(String value) {
            this.contentSecurityPolicy = value;
            return this;
        }

        /**
         * @param value {@code Cross-Origin-Opener-Policy}, {@code ""} for none
         * @return this
         */
        public Builder crossOriginOpenerPolicy(String value) {
            this.crossOriginOpenerPolicy = value;
            return this;
        }

        /**
         * @param value {@code X-Content-Type-Options}, {@code ""} for none
         * @return this
         */
        public Builder contentTypeOptions(String value) {
            this.contentTypeOptions = value;
            return this;
        }

        /**
         * @param value whether Portico's values replace the backend's
         * @return this
         */
        public Builder override(boolean value) {
            this.override = value;
            return this;
        }

        /** @return the policy */
        public SecurityHeadersPolicyConfig build() {
            return new SecurityHeadersPolicyConfig(contentTypeOptions, frameOptions, referrerPolicy, hstsMaxAge,
                    hstsIncludeSubdomains, hstsPreload, crossOriginOpenerPolicy, permissionsPolicy,
                    contentSecurityPolicy, override);
        }
    }
}
