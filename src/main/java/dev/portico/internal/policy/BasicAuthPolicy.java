package dev.portico.internal.policy;

import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.internal.auth.AuthExecutor;
import dev.portico.internal.auth.CredentialDigest;
import dev.portico.internal.auth.ExpiringCache;
import dev.portico.internal.auth.LogLimiter;
import dev.portico.internal.auth.PasswordHash;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.Suspension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code basic_auth} policy. A password hash takes milliseconds to check by design, so checks run on
 * {@link AuthExecutor}'s threads while the request is suspended; a success is cached for {@link #CACHE_TTL} under
 * the keyed digest of the {@code Authorization} value, so a client that logged in is let through on the event loop
 * in microseconds. Failures are not cached: they cost a check each, bounded by the executor's queue (503 past it).
 * An unknown user is checked against a decoy hash of the first user's scheme and cost, so the time taken does not
 * tell which users exist.
 */
final class BasicAuthPolicy implements Policy {
    private static final Logger LOG = LoggerFactory.getLogger(BasicAuthPolicy.class);
    static final Duration CACHE_TTL = Duration.ofMinutes(5);
    static final int CACHE_ENTRIES = 10_000;
    /** Longer credentials are refused unread: no password hash needs more. */
    static final int MAX_CREDENTIALS = 4096;
    /** How long a request waits for a check; the executor's queue keeps real waits far shorter. */
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);
    private static final LocalResponse BUSY = LocalResponse.builder(503).header("Retry-After", "1")
            .header("Content-Type", "text/plain; charset=utf-8").body("Service Unavailable\n").build();

    private final Map<String, PasswordHash> users = new HashMap<>();
    private final PasswordHash decoy;
    private final boolean removeCredentials;
    private final Decision challenge;
    private final LocalResponse challengeResponse;
    private final ExpiringCache<CredentialDigest.Key, Boolean> cache = new ExpiringCache<>(CACHE_ENTRIES);
    private final Executor executor;
    private final LogLimiter refusals = new LogLimiter(LOG, Duration.ofSeconds(10).toNanos(), false);
    private final String realm;

    BasicAuthPolicy(BasicAuthPolicyConfig config) {
        this(config, AuthExecutor.shared());
    }

    BasicAuthPolicy(BasicAuthPolicyConfig config, Executor executor) {
        config.allUsers().forEach((user, hash) -> users.put(user, PasswordHash.parse(hash)));
        this.decoy = users.isEmpty() ? PasswordHash.parse("$2y$10$" + ".".repeat(53)).decoy()
                : PasswordHash.parse(config.allUsers().values().iterator().next()).decoy();
        this.removeCredentials = config.removeCredentials();
        this.realm = config.realm();
        this.challengeResponse = LocalResponse.builder(401)
                .header("WWW-Authenticate", "Basic realm=\"" + realm + "\", charset=\"UTF-8\"")
                .header("Content-Type", "text/plain; charset=utf-8").body("Unauthorized\n").build();
        this.challenge = Decision.respond(challengeResponse);
        this.executor = executor;
    }

    @Override
    public Decision onRequest(RequestContext r) {
        String authorization = r.headers().get("Authorization");
        if (authorization == null) {
            return challenge;
        }
        if (authorization.length() > MAX_CREDENTIALS || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return refuse(r, "not Basic credentials");
        }
        String encoded = authorization.substring(6).strip();
        if (removeCredentials) {
            r.headers().remove("Authorization");
        }
        CredentialDigest.Key key = CredentialDigest.of(realm, encoded);
        if (cache.get(key, System.nanoTime()) != null) {
            return Decision.proceed();
        }
        String decoded;
        try {
            decoded = new String(java.util.Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return refuse(r, "credentials are not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return refuse(r, "credentials without ':'");
        }
        String user = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        String client = r.clientIp();
        Suspension s = r.suspend(CHECK_TIMEOUT);
        try {
            executor.execute(() -> check(s, key, user, password, client));
        } catch (RejectedExecutionException e) {
            refusals.log("basic_auth: password checks queue full, 503 to {}", client);
            s.respond(BUSY);
        }
        return Decision.suspended();
    }

    /** On an executor thread. */
    private void check(Suspension s, CredentialDigest.Key key, String user, String password, String client) {
        try {
            PasswordHash hash = users.get(user);
            boolean ok = (hash != null ? hash : decoy).matches(password) && hash != null;
            if (ok) {
                cache.put(key, Boolean.TRUE, System.nanoTime() + CACHE_TTL.toNanos());
                s.proceed();
            } else {
                refusals.log("basic_auth: {} for user \"{}\" from {}", hash == null ? "unknown user" : "wrong password",
                        user.replaceAll("\\p{Cntrl}", "?"), client);
                s.respond(challengeResponse);
            }
        } catch (RuntimeException e) {
            s.fail(e);
        }
    }

    private Decision refuse(RequestContext r, String why) {
        refusals.log("basic_auth: {} from {}", why, r.clientIp());
        return challenge;
    }

    @Override
    public String toString() {
        return "basic_auth realm " + realm + ", " + users.size() + " users";
    }
}
