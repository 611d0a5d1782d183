package dev.portico.internal.ops;

import dev.portico.config.AdminAuthConfig;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Who may do what on the admin endpoint. {@code /healthz} and {@code /readyz} are open; {@code /metrics} is open
 * unless {@code protect_metrics}; everything else needs a bearer token, a user's password or the login form's session
 * cookie when {@code admin.auth} is set (a browser without them gets the login form, see {@link AdminLogin}). A
 * request that changes something ({@code POST}) is refused if a browser says it comes from another site
 * ({@code Sec-Fetch-Site}, or an {@code Origin} other than this endpoint's), with or without authentication: basic
 * credentials a browser remembers, or its session cookie, would otherwise let any page the operator visits reload
 * the proxy. With {@code SameSite=Strict} on the cookie, this is the CSRF guard of cookie sign-in.
 */
final class AdminAccess {
    /** A refusal to send instead of the answer. */
    record Refusal(HttpResponseStatus status, String body, String challenge) {
        static final Refusal CROSS_SITE = new Refusal(HttpResponseStatus.FORBIDDEN,
                "cross-site request refused\n", null);
        /** No credentials from a browser: the login form instead of a challenge (with {@code users} only). */
        static final Refusal LOGIN = new Refusal(HttpResponseStatus.UNAUTHORIZED, "sign in\n", null);
        static final Refusal BUSY = new Refusal(HttpResponseStatus.SERVICE_UNAVAILABLE,
                "too many password checks under way; try again\n", null);
    }

    /** A well-formed bcrypt hash no password matches in practice, checked for unknown users so they take as long. */
    static final String NOBODY = "$2b$10$" + "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

    private final Supplier<AdminAuthConfig> auth;
    private final AdminPasswords passwords;
    private final AdminLogin login;
    private final boolean tls;

    /**
     * @param auth the running configuration's {@code admin.auth}, read per request so a reload applies at once
     * @param passwords checks passwords off the event loop
     * @param login the login form's sessions, which a cookie names
     * @param tls whether the admin listener has TLS (for the origin it expects)
     */
    AdminAccess(Supplier<AdminAuthConfig> auth, AdminPasswords passwords, AdminLogin login, boolean tls) {
        this.auth = auth;
        this.passwords = passwords;
        this.login = login;
        this.tls = tls;
    }

    /**
     * @param req the request
     * @param path its path
     * @return completes with {@code null} to answer the request, or the refusal to send; already complete unless a
     *     password has to be hashed
     */
    CompletableFuture<Refusal> check(FullHttpRequest req, String path) {
        if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD) && crossSite(req)) {
            return done(Refusal.CROSS_SITE);
        }
        AdminAuthConfig a = auth.get();
        if (a == null || path.equals("/healthz") || path.equals("/readyz")
                || path.equals("/metrics") && !a.protectMetrics()) {
            return done(null);
        }
        if (path.equals("/login") || path.equals("/logout") || path.equals("/login.css")) {
            return done(null); // they sign in and out; a POST to them passed the same-origin check above
        }
        String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        Refusal challenge = challenge(a);
        if (header == null) {
            // A session cookie (a POST with one passed the same-origin check above: the CSRF guard).
            if (login.user(req, a) != null) {
                return done(null);
            }
            return done(!a.users().isEmpty() && AdminLogin.browser(req) ? Refusal.LOGIN : challenge);
        }
        int space = header.indexOf(' ');
        String scheme = space < 0 ? header : header.substring(0, space);
        String value = space < 0 ? "" : header.substring(space + 1).strip();
        if (scheme.equalsIgnoreCase("Bearer") && a.token() != null) {
            boolean ok = MessageDigest.isEqual(value.getBytes(StandardCharsets.UTF_8),
                    a.token().getBytes(StandardCharsets.UTF_8));
            return done(ok ? null : challenge);
        }
        if (scheme.equalsIgnoreCase("Basic") && !a.users().isEmpty()) {
            String pair;
            try {
                pair = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return done(challenge);
            }
            int colon = pair.indexOf(':');
            if (colon < 0) {
                return done(challenge);
            }
            String user = pair.substring(0, colon);
            String hash = a.users().get(user);
            return passwords.check(user, hash == null ? NOBODY : hash, pair.substring(colon + 1)).thenApply(o ->
                    switch (o) {
                        case MATCH -> hash == null ? challenge : null;
                        case MISMATCH -> challenge;
                        case BUSY -> Refusal.BUSY;
                    });
        }
        return done(challenge);
    }

    private static Refusal challenge(AdminAuthConfig a) {
        String realm = "realm=\"Portico admin\"";
        String c = !a.users().isEmpty() ? "Basic " + realm + ", charset=\"UTF-8\"" : "Bearer " + realm;
        return new Refusal(HttpResponseStatus.UNAUTHORIZED, "authentication required\n", c);
    }

    /**
     * Whether a browser says the request comes from another site. Clients that are not browsers send neither
     * field and are let through (they carry no ambient credentials of a user).
     */
    boolean crossSite(FullHttpRequest req) {
        String site = req.headers().get("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            return true;
        }
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return false;
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        return host == null || !origin.toLowerCase(Locale.ROOT).equals(
                (tls ? "https://" : "http://") + host.toLowerCase(Locale.ROOT));
    }

    private static CompletableFuture<Refusal> done(Refusal r) {
        return CompletableFuture.completedFuture(r);
    }
}
