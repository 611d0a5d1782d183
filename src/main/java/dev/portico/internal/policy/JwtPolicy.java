package dev.portico.internal.policy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.internal.auth.AuthExecutor;
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
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jwt} policy. On the event loop: a token over {@link #MAX_TOKEN} characters is refused unparsed; a
 * token verified before is found in a cache (under its keyed digest, until it expires, at most {@link #CACHE_TTL},
 * and only while the key set it was verified with is current), so a client's next requests cost a digest and a
 * lookup; a new token is parsed and its algorithm checked. Its signature is then checked on an
 * {@link AuthExecutor} thread while the request is suspended, after the JWK set is fetched again if the token names
 * a key the set lacks (rate-limited by {@link JwksSource}).
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
    private static final LocalResponse BUSY = LocalResponse.builder(503).header("Retry-After", "1")
            .header("Content-Type", "text/plain; charset=utf-8").body("Service Unavailable\n").build();

    private final JwtPolicyConfig config;
    private final TokenLocator locator;
    private final JwksSource remote;
    private final Supplier<KeySet> keys;
    private final ClaimsCheck claims;
    private final String[] forwardHeaders;
    private final ExpiringCache<CredentialDigest.Key, ClaimsCheck.Verified> cache =
            new ExpiringCache<>(CACHE_ENTRIES);
    private final LogLimiter refusals = new LogLimiter(LOG, Duration.ofSeconds(10).toNanos(), false);
    private final Executor executor;
    private final String scope = "jwt@" + Integer.toHexString(System.identityHashCode(this));

    JwtPolicy(JwtPolicyConfig config) {
        this(config, AuthExecutor.shared());
    }

    JwtPolicy(JwtPolicyConfig config, Executor executor) {
        this.config = config;
        this.executor = executor;
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
        CompletableFuture<KeySet> set = CompletableFuture.completedFuture(held);
        if (held.verifiers(kid, alg).isEmpty()) {
            set = remote == null ? null : remote.refetch(held);
            if (set == null) {
                return refuse(r, "no key for kid " + kid);
            }
        }
        return verifyAsync(r, jwt, digest, set);
    }

    /**
     * Signature checks take from tens of microseconds (RS256) to milliseconds (ES256), too long for an event loop:
     * the request is suspended while the key set is fetched (if it must be) and an {@link AuthExecutor} thread
     * checks; the outcome is applied back on the request's event loop.
     */
    private Decision verifyAsync(RequestContext r, SignedJWT jwt, CredentialDigest.Key digest,
                                 CompletableFuture<KeySet> set) {
        Suspension s = r.suspend(config.jwksTimeout().plusSeconds(5));
        EventExecutor loop = r instanceof PolicyRun run ? run.loop() : null;
        String client = r.clientIp();
        set.whenComplete((keys, e) -> {
            try {
                executor.execute(() -> {
                    Object outcome = verify(jwt, keys != null ? keys : KeySet.EMPTY);
                    Runnable finish = () -> finish(r, s, digest, outcome, client);
                    if (loop != null) {
                        loop.execute(finish);
                    } else {
                        finish.run();
                    }
                });
            } catch (RejectedExecutionException x) {
                refusals.log("jwt: verification queue full, 503 to {}", client);
                s.respond(BUSY);
            }
        });
        return Decision.suspended();
    }

    /** On an executor thread: the {@link ClaimsCheck.Verified} claims, or why the token is refused. */
    private Object verify(SignedJWT jwt, KeySet keys) {
        try {
            JWSHeader h = jwt.getHeader();
            List<JWSVerifier> verifiers = keys.verifiers(h.getKeyID(), h.getAlgorithm().getName());
            if (verifiers.isEmpty()) {
                return "no key for kid " + h.getKeyID();
            }
            if (!verified(jwt, verifiers)) {
                return "bad signature";
            }
            return claims.check(jwt.getJWTClaimsSet(), keys.generation());
        } catch (ParseException | RuntimeException e) {
            return e.getMessage() == null ? e.toString() : e.getMessage();
        }
    }

    /** On the request's event loop. */
    private void finish(RequestContext r, Suspension s, CredentialDigest.Key digest, Object outcome, String client) {
        if (outcome instanceof ClaimsCheck.Verified v) {
            cache.put(digest, v, Math.min(v.expiresAtNanos(), System.nanoTime() + CACHE_TTL.toNanos()));
            claims.apply(r, v);
            s.proceed();
        } else {
            refusals.log("jwt: 401 to {}: {}", client, outcome);
            s.respond(INVALID_RESPONSE);
        }
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
