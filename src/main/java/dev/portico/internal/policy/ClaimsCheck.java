package dev.portico.internal.policy;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.policy.Headers;
import dev.portico.policy.RequestContext;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The claim rules of a {@code jwt} policy: {@code exp} required and in the future, {@code nbf} in the past (both
 * within the leeway), {@code iss}, {@code aud} and the required claims; and what a verified token gives the
 * request: its claims for later policies, and the {@code forward_claims} header fields.
 */
final class ClaimsCheck {
    /** A token that verified: its claims, the header values derived from them, until when it holds. */
    record Verified(Map<String, Object> claims, String[] headerValues, long expiresAtNanos, long generation) {
    }

    /** A rule a token broke; the message says which, for the log. */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private final JwtPolicyConfig config;
    private final long leewayMillis;
    private final String[] claimNames;
    private final String[] headerNames;

    ClaimsCheck(JwtPolicyConfig config) {
        this.config = config;
        this.leewayMillis = config.leeway().toMillis();
        this.claimNames = config.forwardClaims().keySet().toArray(new String[0]);
        this.headerNames = config.forwardClaims().values().toArray(new String[0]);
    }

    /**
     * @param set the token's claims, its signature verified
     * @param generation the key set's generation
     * @return what the request gets
     * @throws Refused if a rule is broken
     */
    Verified check(JWTClaimsSet set, long generation) {
        long now = System.currentTimeMillis();
        Date exp = set.getExpirationTime();
        if (exp == null) {
            throw new Refused("no exp claim");
        }
        if (now > exp.getTime() + leewayMillis) {
            throw new Refused("expired at " + exp.toInstant());
        }
        Date nbf = set.getNotBeforeTime();
        if (nbf != null && now + leewayMillis < nbf.getTime()) {
            throw new Refused("not valid before " + nbf.toInstant());
        }
        if (!config.issuer().isEmpty() && !config.issuer().equals(set.getIssuer())) {
            throw new Refused("issuer " + set.getIssuer() + " is not " + config.issuer());
        }
        List<String> aud = set.getAudience();
        if (!config.audiences().isEmpty() && (aud == null || aud.stream().noneMatch(config.audiences()::contains))) {
            throw new Refused("audience " + aud + " names none of " + config.audiences());
        }
        for (String c : config.requiredClaims()) {
            if (set.getClaim(c) == null) {
                throw new Refused("no " + c + " claim");
            }
        }
        Map<String, Object> claims = new HashMap<>();
        set.getClaims().forEach((k, v) -> {
            if (k != null && v != null) {
                claims.put(k, v);
            }
        });
        String[] values = new String[claimNames.length];
        for (int i = 0; i < claimNames.length; i++) {
            values[i] = render(claims.get(claimNames[i]));
        }
        long expiresAt = System.nanoTime() + (exp.getTime() + leewayMillis - now) * 1_000_000L;
        return new Verified(Map.copyOf(claims), values, expiresAt, generation);
    }

    /** Gives the request what a verified token holds. On the request's event loop. */
    void apply(RequestContext r, Verified v) {
        if (r instanceof PolicyRun run) {
            run.verifiedClaims(v.claims());
        }
        String[] values = v.headerValues();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                r.headers().set(headerNames[i], values[i]);
            }
        }
    }

    /** A claim as a field value, or null if absent or not representable (control or non-Latin-1 characters). */
    private static String render(Object v) {
        if (v == null) {
            return null;
        }
        String s;
        if (v instanceof Date d) {
            s = Long.toString(d.getTime() / 1000);
        } else if (v instanceof Collection<?> c) {
            s = c.stream().map(String::valueOf).collect(Collectors.joining(", "));
        } else if (v instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            Map<String, ?> json = (Map<String, ?>) m;
            s = JSONObjectUtils.toJSONString(json);
        } else {
            s = String.valueOf(v);
        }
        return Headers.isFieldValue(s) ? s : null;
    }
}
