package dev.portico.config;

import dev.portico.internal.auth.KeyMaterial;
import java.net.URI;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code jwt} policy: a request must carry a signed JSON Web Token (RFC 7519) that verifies with the configured
 * keys and whose {@code exp} (always required), {@code nbf}, {@code iss} and {@code aud} hold, within
 * {@code leeway}. No token: 401 with {@code WWW-Authenticate: Bearer}; a bad one: 401 with
 * {@code Bearer error="invalid_token"} (RFC 6750), the reason logged, never sent. {@code alg: none} is never
 * accepted, nor any algorithm outside {@code algorithms}, and HMAC algorithms only with a {@code secret_file} (so
 * a public key can never serve as an HMAC secret).
 *
 * <p>Exactly one key source: {@code jwks_url} (fetched asynchronously, cached, refreshed before it expires and
 * again, rate-limited, when a token names an unknown {@code kid}), {@code jwks_file}, {@code key} (a PEM public
 * key or certificate) or {@code secret_file}. Files are read when the configuration is made; a changed file makes
 * an unequal record, so a reload picks it up.
 *
 * @param jwksUrl where the JWK set is fetched ({@code http} or {@code https}), or {@code null}
 * @param jwksFile a JWK set file, or {@code null}
 * @param key a PEM public key or certificate file, or {@code null}
 * @param secretFile a file holding an HMAC secret of at least 32 bytes (one trailing line break ignored), or
 *     {@code null}
 * @param issuer the {@code iss} required, or {@code ""} for any
 * @param audiences the {@code aud} values of which a token must name one; empty for any
 * @param algorithms the accepted {@code alg} values; empty for the default ({@code [RS256, ES256]}, or
 *     {@code [HS256]} with a secret file)
 * @param requiredClaims claims a token must have besides {@code exp}
 * @param leeway the clock skew allowed on {@code exp} and {@code nbf}
 * @param tokenFrom where the token is: {@code header:Authorization} (scheme {@code Bearer}), another
 *     {@code header:NAME} (the whole value, or after {@code Bearer }), {@code cookie:NAME} or {@code query:NAME}
 * @param forwardClaims claim name to the request header set from it for the backend (copies the client sent are
 *     removed first)
 * @param jwksTimeout how long a JWK set fetch may take
 */
public record JwtPolicyConfig(URI jwksUrl, FileContent jwksFile, FileContent key, FileContent secretFile,
                              String issuer, List<String> audiences, List<String> algorithms,
                              List<String> requiredClaims, Duration leeway, String tokenFrom,
                              Map<String, String> forwardClaims, Duration jwksTimeout) implements PolicyConfig {
    /** The algorithms accepted with public keys when none are given. */
    public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "ES256");
    /** The default clock skew allowed. */
    public static final Duration DEFAULT_LEEWAY = Duration.ofSeconds(30);
    /** Where the token is read by default. */
    public static final String DEFAULT_TOKEN_FROM = "header:Authorization";
    /** How long a JWK set fetch may take by default. */
    public static final Duration DEFAULT_JWKS_TIMEOUT = Duration.ofSeconds(3);

    /** Validates the key source, algorithms, token location and header names. */
    public JwtPolicyConfig {
        int sources = (jwksUrl != null ? 1 : 0) + (jwksFile != null ? 1 : 0) + (key != null ? 1 : 0)
                + (secretFile != null ? 1 : 0);
        if (sources != 1) {
            throw new IllegalArgumentException("needs exactly one of jwks_url, jwks_file, key and secret_file, got "
                    + sources);
        }
        Objects.requireNonNull(issuer, "issuer");
        audiences = List.copyOf(audiences);
        requiredClaims = List.copyOf(requiredClaims);
        Objects.requireNonNull(leeway, "leeway");
        Objects.requireNonNull(jwksTimeout, "jwks_timeout");
        Objects.requireNonNull(tokenFrom, "token_from");
        forwardClaims = Collections.unmodifiableMap(new LinkedHashMap<>(forwardClaims));
        if (algorithms.isEmpty()) {
            algorithms = secretFile != null ? List.of("HS256") : DEFAULT_ALGORITHMS;
        }
        algorithms = List.copyOf(algorithms);
        if (jwksUrl != null && !("http".equals(jwksUrl.getScheme()) || "https".equals(jwksUrl.getScheme())
                || jwksUrl.getHost() == null)) {
            throw new IllegalArgumentException("jwks_url must be an http or https URL, got \"" + jwksUrl + "\"");
        }
        checkAlgorithms(algorithms, secretFile != null);
        checkKeys(jwksFile, key, secretFile, algorithms);
        if (leeway.isNegative()) {
            throw new IllegalArgumentException("leeway must not be negative");
        }
        if (jwksTimeout.isZero() || jwksTimeout.isNegative()) {
            throw new IllegalArgumentException("jwks_timeout must be positive");
        }
        checkTokenFrom(tokenFrom);
        for (Map.Entry<String, String> e : forwardClaims.entrySet()) {
            if (e.getKey().isEmpty()) {
                throw new IllegalArgumentException("forward_claims claim name is empty");
            }
            String h = HeaderField.fieldName(e.getValue());
            if (h.equalsIgnoreCase("host")) {
                throw new IllegalArgumentException("forward_claims " + e.getKey() + ": Host cannot be set from a claim");
            }
        }
    }

    private static void checkAlgorithms(List<String> algorithms, boolean secret) {
        for (String a : algorithms) {
            if (a.equalsIgnoreCase("none")) {
                throw new IllegalArgumentException("algorithms none is never accepted: an unsigned token proves nothing");
            }
            if (!KeyMaterial.SUPPORTED.contains(a)) {
                throw new IllegalArgumentException("algorithms " + a + " is not supported (supported: "
                        + String.join(", ", KeyMaterial.SUPPORTED.stream().sorted().toList()) + ")");
            }
            if (KeyMaterial.isHmac(a) != secret) {
                throw new IllegalArgumentException("algorithms " + a + (secret
                        ? " does not go with secret_file, which serves HS256, HS384 and HS512 only"
                        : " needs secret_file: HMAC with a public key would let anyone sign"));
            }
        }
    }

    private static void checkKeys(FileContent jwksFile, FileContent key, FileContent secretFile,
                                  List<String> algorithms) {
        if (jwksFile != null) {
            try {
                KeyMaterial.jwks(jwksFile.text());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("jwks_file " + jwksFile.path() + ": " + e.getMessage());
            }
        }
        if (key != null) {
            PublicKey k;
            try {
                k = KeyMaterial.pem(key.text());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("key " + key.path() + ": " + e.getMessage());
            }
            for (String a : algorithms) {
                if (!KeyMaterial.fits(a, k)) {
                    throw new IllegalArgumentException("algorithms " + a + " cannot be verified with the "
                            + k.getAlgorithm() + " key " + key.path());
                }
            }
        }
        if (secretFile != null) {
            try {
                KeyMaterial.secret(secretFile.text());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("secret_file " + secretFile.path() + ": " + e.getMessage());
            }
        }
    }

    private static void checkTokenFrom(String tokenFrom) {
        int colon = tokenFrom.indexOf(':');
        String kind = colon < 0 ? "" : tokenFrom.substring(0, colon);
        String name = colon < 0 ? "" : tokenFrom.substring(colon + 1);
        boolean ok = switch (kind) {
            case "header", "cookie" -> dev.portico.policy.Headers.isFieldName(name);
            case "query" -> !name.isEmpty() && name.chars().noneMatch(c -> c == '&' || c == '=' || c <= ' ');
            default -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("token_from must be header:NAME, cookie:NAME or query:NAME, got \""
                    + tokenFrom + "\"");
        }
    }

    /** @return the kind of {@link #tokenFrom()}: {@code header}, {@code cookie} or {@code query} */
    public String tokenFromKind() {
        return tokenFrom.substring(0, tokenFrom.indexOf(':'));
    }

    /** @return the name in {@link #tokenFrom()}: the header, cookie or query parameter */
    public String tokenFromName() {
        return tokenFrom.substring(tokenFrom.indexOf(':') + 1);
    }

    /**
     * @param jwksUrl where the JWK set is fetched
     * @return a builder with that key source and the defaults
     */
    public static Builder jwksUrl(URI jwksUrl) {
        return new Builder().source(Objects.requireNonNull(jwksUrl, "jwksUrl"), null, null, null);
    }

    /**
     * @param file a JWK set file, read now
     * @return a builder with that key source and the defaults
     */
    public static Builder jwksFile(Path file) {
        return new Builder().source(null, FileContent.read(file), null, null);
    }

    /**
     * @param file a PEM public key or certificate, read now
     * @return a builder with that key source and the defaults
     */
    public static Builder key(Path file) {
        return new Builder().source(null, null, FileContent.read(file), null);
    }

    /**
     * @param file a file holding an HMAC secret, read now
     * @return a builder with that key source and the defaults ({@code algorithms: [HS256]})
     */
    public static Builder secretFile(Path file) {
        return new Builder().source(null, null, null, FileContent.read(file));
    }

    @Override
    public String type() {
        return "jwt";
    }

    /** Builds {@link JwtPolicyConfig}; start from one of its key-source factories. Not thread-safe. */
    public static final class Builder {
        private URI jwksUrl;
        private FileContent jwksFile;
        private FileContent key;
        private FileContent secretFile;
        private String issuer = "";
        private List<String> audiences = List.of();
        private List<String> algorithms = List.of();
        private final List<String> requiredClaims = new ArrayList<>();
        private Duration leeway = DEFAULT_LEEWAY;
        private String tokenFrom = DEFAULT_TOKEN_FROM;
        private final Map<String, String> forwardClaims = new LinkedHashMap<>();
        private Duration jwksTimeout = DEFAULT_JWKS_TIMEOUT;

        private Builder() {
        }

        private Builder source(URI url, FileContent set, FileContent pem, FileContent secret) {
            this.jwksUrl = url;
            this.jwksFile = set;
            this.key = pem;
            this.secretFile = secret;
            return this;
        }

        /**
         * @param value the required {@code iss}
         * @return this
         */
        public Builder issuer(String value) {
            this.issuer = value;
            return this;
        }

        /**
         * @param value accepted {@code aud} values
         * @return this
         */
        public Builder audiences(String... value) {
            this.audiences = List.of(value);
            return this;
        }

        /**
         * @param value accepted algorithms, e.g. {@code RS256}
         * @return this
         */
        public Builder algorithms(String... value) {
            this.algorithms = List.of(value);
            return this;
        }

        /**
         * @param value claims a token must have
         * @return this
         */
        public Builder requiredClaims(String... value) {
            requiredClaims.addAll(List.of(value));
            return this;
        }

        /**
         * @param value the clock skew allowed
         * @return this
         */
        public Builder leeway(Duration value) {
            this.leeway = value;
            return this;
        }

        /**
         * @param value {@code header:NAME}, {@code cookie:NAME} or {@code query:NAME}
         * @return this
         */
        public Builder tokenFrom(String value) {
            this.tokenFrom = value;
            return this;
        }

        /**
         * @param claim a claim name
         * @param header the request header set from it
         * @return this
         */
        public Builder forwardClaim(String claim, String header) {
            forwardClaims.put(claim, header);
            return this;
        }

        /**
         * @param value how long a JWK set fetch may take
         * @return this
         */
        public Builder jwksTimeout(Duration value) {
            this.jwksTimeout = value;
            return this;
        }

        /** @return the policy */
        public JwtPolicyConfig build() {
            return new JwtPolicyConfig(jwksUrl, jwksFile, key, secretFile, issuer, audiences, algorithms,
                    requiredClaims, leeway, tokenFrom, forwardClaims, jwksTimeout);
        }
    }
}
