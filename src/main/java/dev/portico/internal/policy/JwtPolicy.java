package dev.portico.internal.policy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.internal.auth.CredentialDigest;
import dev.portico.internal.auth.ExpiringCache;
import dev.portico.internal.auth.JwksSource;
import dev.portico.internal.auth.KeyMaterial;
import dev.portico.internal.auth.KeySet;
import dev.portico.internal.auth.LogLimiter;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.Suspension;
import io.netty.util.concurrent.EventExecutor;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jwt} policy. Runs on the event loop: a token over {@link #MAX_TOKEN} characters is refused unparsed;
 * a verified token is cached (under its keyed digest, until it expires, at most {@link #CACHE_TTL}, and only while
 * the key set it was verified with is current), so a client's next requests cost a digest and a lookup instead of
 * a signature check. A token naming a key the JWK set lacks suspends its request while the set is fetched again
 * (rate-limited by {@link JwksSource}); the verification then runs back on the request's event loop.
 */
final class JwtPolicy implements Policy {
    private static final Logger LOG = LoggerFactory.getLogger(JwtPolicy.class);
    /** Longer tokens are refused without parsing. */
    static final int MAX_TOKEN = 8192;
    static final Duration CACHE_TTL = Duration.ofMinutes(5);
    static final int CACHE_ENTRIES = 10_000;
    private static final Decision MISSING = Decision.respond(LocalResponse.builder(401)
            .header("WWW-Authenticate", "Bearer").header("Content-Type", "text/plain; charset=utf-8")
            .body("Unauthorized\n").build());
    private static final LocalResponse INVALID_RESPONSE = LocalResponse.builder(401)
            .header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
            .header("Content-Type", "text/plain; charset=utf-8").body("Unauthorized\n").build();
    private static final Decision INVALID = Decision.respond(INVALID_RESPONSE);

    private final JwtPolicyConfig config;
    private final TokenLocator locator;
    private final JwksSource remote;
    private final Supplier<KeySet> keys;
    private final ClaimsCheck claims;
    private final String[] forwardHeaders;
    private final ExpiringCache<CredentialDigest.Key, ClaimsCheck.Verified> cache =
            new ExpiringCache<>(CACHE_ENTRIES);
    private final LogLimiter refusals = new LogLimiter(LOG, Duration.ofSeconds(10).toNanos(), false);
    private final String scope = "jwt@" + Integer.toHexString(System.identityHashCode(this));

    JwtPolicy(JwtPolicyConfig config) {
        this.config = config;
        this.locator = new TokenLocator(config.tokenFromKind(), config.tokenFromName());
        this.claims = new ClaimsCheck(config);
        this.forwardHeaders = config.forwardClaims().values().toArray(new String[0]);
        if (config.jwksUrl() != null) {
            remote = new JwksSource(config.jwksUrl(), config.jwksTimeout());
            keys = remote::keys;
        } else {
            remote = null;
            KeySet fixed = config.jwksFile() != null ? KeySet.ofJwks(KeyMaterial.jwks(config.jwksFile().text()), 1)
                    : config.key() != null ? KeySet.ofPublicKey(KeyMaterial.pem(config.key().text()))
                    : KeySet.ofSecret(KeyMaterial.secret(config.secretFile().text()));
            keys = () -> fixed;
        }
    }

    @Override
    public Decision onRequest(RequestContext r) {
        for (String h : forwardHeaders) {
            r.headers().remove(h); // a client's copy never reaches the backend, verified or not
        }
        String token = locator.find(r);
        if (token == null) {
            return MISSING;
        }
        if (token.length() > MAX_TOKEN) {
            return refuse(r, "token of " + token.length() + " characters, more than " + MAX_TOKEN);
        }
        KeySet held = keys.get();
        CredentialDigest.Key digest = CredentialDigest.of(scope, token);
        ClaimsCheck.Verified cached = cache.get(digest, System.nanoTime());
        if (cached != null && cached.generation() == held.generation()) {
            claims.apply(r, cached);
            return Decision.proceed();
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            return refuse(r, "malformed token: " + e.getMessage());
        }
        String alg = jwt.getHeader().getAlgorithm().getName();
        if (!config.algorithms().contains(alg)) {
            return refuse(r, "algorithm " + alg + " is not accepted");
        }
        String kid = jwt.getHeader().getKeyID();
        List<JWSVerifier> verifiers = held.verifiers(kid, alg);
        if (verifiers.isEmpty() && remote != null) {
            CompletableFuture<KeySet> refetch = remote.refetch();
            if (refetch != null) {
                return await(r, refetch, jwt, digest, kid, alg);
            }
        }
        return decide(r, jwt, digest, held, verifiers, kid);
    }

    /** Suspends until the key set is fetched again, then verifies on the request's event loop. */
    private Decision await(RequestContext r, CompletableFuture<KeySet> refetch, SignedJWT jwt,
                           CredentialDigest.Key digest, String kid, String alg) {
        Suspension s = r.suspend(config.jwksTimeout().plusSeconds(2));
        EventExecutor loop = r instanceof PolicyRun run ? run.loop() : null;
        refetch.whenComplete((set, e) -> {
            Runnable finish = () -> {
                KeySet now = set != null ? set : KeySet.EMPTY;
                Decision d = decide(r, jwt, digest, now, now.verifiers(kid, alg), kid);
                if (d.isProceed()) {
                    s.proceed();
                } else {
                    s.respond(d.response());
                }
            };
            if (loop != null) {
                loop.execute(finish);
            } else {
                finish.run();
            }
        });
        return Decision.suspended();
    }

    private Decision decide(RequestContext r, SignedJWT jwt, CredentialDigest.Key digest, KeySet set,
                            List<JWSVerifier> verifiers, String kid) {
        if (verifiers.isEmpty()) {
            return refuse(r, "no key for kid " + kid);
        }
        if (!verified(jwt, verifiers)) {
            return refuse(r, "bad signature");
        }
        ClaimsCheck.Verified v;
        try {
            v = claims.check(jwt.getJWTClaimsSet(), set.generation());
        } catch (ParseException | ClaimsCheck.Refused e) {
            return refuse(r, e.getMessage());
        }
        cache.put(digest, v, Math.min(v.expiresAtNanos(), System.nanoTime() + CACHE_TTL.toNanos()));
        claims.apply(r, v);
        return Decision.proceed();
    }

    private static boolean verified(SignedJWT jwt, List<JWSVerifier> verifiers) {
        for (JWSVerifier v : verifiers) {
            try {
                if (jwt.verify(v)) {
                    return true;
                }
            } catch (JOSEException | IllegalStateException e) {
                // a key that cannot check this token (wrong curve, bad signature length): try the next
            }
        }
        return false;
    }

    private Decision refuse(RequestContext r, String why) {
        refusals.log("jwt: 401 to {} on {}: {}", r.clientIp(), r.route(), why);
        return INVALID;
    }

    @Override
    public String toString() {
        return "jwt " + (remote != null ? config.jwksUrl() : "static keys") + " " + config.algorithms();
    }
}
