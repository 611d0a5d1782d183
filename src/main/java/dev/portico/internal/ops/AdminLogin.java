package dev.portico.internal.ops;

import dev.portico.config.AdminAuthConfig;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's login form and its session cookie, for {@code admin.auth.users}. A browser that asks for the
 * dashboard without credentials gets the form (not the browser's basic-auth prompt); {@code POST /login} checks the
 * password off the admin loop and answers 303 to {@code /} with a session cookie ({@code HttpOnly},
 * {@code SameSite=Strict}, {@code Path=/}, {@code Secure} over TLS, then named with the {@code __Host-} prefix).
 * Requests that change something with the cookie pass the same-origin check of {@link AdminAccess} like every
 * other: that check and {@code SameSite=Strict} are the CSRF guard. Passwords and session ids are never logged.
 */
final class AdminLogin {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    static final String FAILED = "Wrong user name or password.";
    static final String BUSY = "Too many sign-ins under way; try again.";
    /** How often an event stream's session is checked. */
    static final long WATCH_SECONDS = 5;
    /** The cookie's Max-Age: the session's absolute limit, after which the browser drops it too. */
    private static final long MAX_AGE = TimeUnit.NANOSECONDS.toSeconds(AdminSessions.MAX_NANOS);

    private final Supplier<AdminAuthConfig> auth;
    private final AdminPasswords passwords;
    private final AdminSessions sessions;
    private final boolean tls;
    private final String cookie;
    private final String page = new String(Dashboard.read("login.html"), StandardCharsets.UTF_8);
    private final byte[] css = Dashboard.read("login.css");

    AdminLogin(Supplier<AdminAuthConfig> auth, AdminPasswords passwords, AdminSessions sessions, boolean tls) {
        this.auth = auth;
        this.passwords = passwords;
        this.sessions = sessions;
        this.tls = tls;
        // Over TLS the __Host- prefix makes the browser refuse the cookie unless Secure, Path=/ and host-only.
        this.cookie = tls ? "__Host-portico-session" : "portico-session";
    }

    /**
     * @return whether a browser asks for a page (a navigation, or a fetch the browser labels): it is shown the
     *     login form rather than a basic-auth challenge, which would bring up the browser's own prompt
     */
    static boolean browser(FullHttpRequest req) {
        if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
            return false;
        }
        String accept = req.headers().get(HttpHeaderNames.ACCEPT);
        return accept != null && accept.contains("text/html") || req.headers().contains("Sec-Fetch-Mode");
    }

    /** @return the signed-in user of the request's session cookie, or {@code null} */
    String user(FullHttpRequest req, AdminAuthConfig a) {
        return a == null || a.users().isEmpty() ? null : sessions.user(sessionId(req), a);
    }

    private String sessionId(FullHttpRequest req) {
        for (String header : req.headers().getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
                if (c.name().equals(cookie)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    /**
     * {@code POST /login}: reads the form now, checks the password on the password thread.
     *
     * @return completes with the answer: 303 and the cookie, or the form again with a message that does not say
     *     whether the user exists
     */
    CompletableFuture<FullHttpResponse> login(FullHttpRequest req, boolean keepAlive) {
        AdminAuthConfig a = auth.get();
        if (a == null || a.users().isEmpty()) {
            return CompletableFuture.completedFuture(AdminHandler.response(HttpResponseStatus.NOT_FOUND,
                    "text/plain", "no users are configured (admin.auth.users): nothing to sign in to\n", keepAlive));
        }
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT)
                .startsWith(HttpHeaderValues.APPLICATION_X_WWW_FORM_URLENCODED.toString())) {
            return CompletableFuture.completedFuture(page(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
                    "Send the form (application/x-www-form-urlencoded).", keepAlive));
        }
        var form = new QueryStringDecoder(req.content().toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8,
                false).parameters();
        String user = one(form.get("user"));
        String password = one(form.get("password"));
        if (user == null || password == null) {
            return CompletableFuture.completedFuture(page(HttpResponseStatus.BAD_REQUEST, FAILED, keepAlive));
        }
        String hash = a.users().get(user);
        String previous = sessionId(req);
        // An unknown user is checked against a hash too, so that it takes as long as a known one.
        return passwords.check(user, hash == null ? AdminAccess.NOBODY : hash, password).thenApply(o -> {
            if (o == AdminPasswords.Outcome.BUSY) {
                return page(HttpResponseStatus.SERVICE_UNAVAILABLE, BUSY, keepAlive);
            }
            if (o != AdminPasswords.Outcome.MATCH || hash == null) {
                LOG.info("admin: a dashboard sign-in was refused (wrong user name or password)");
                return page(HttpResponseStatus.UNAUTHORIZED, FAILED, keepAlive);
            }
            LOG.info("admin: {} signed in to the dashboard", user);
            sessions.close(previous); // a session the browser had before is not carried over: a new id each time
            FullHttpResponse res = redirect(keepAlive);
            res.headers().add(HttpHeaderNames.SET_COOKIE, setCookie(sessions.open(user, a), MAX_AGE));
            return res;
        });
    }

    /**
     * Keeps an event stream opened with the session cookie (and no {@code Authorization}) no longer than its
     * session: checked every {@link #WATCH_SECONDS}, and closed once the session has ended (signed out, a reload
     * changed {@code admin.auth}, the absolute limit). An open stream counts as use, so a dashboard left open does
     * not go idle; its page then finds the login form when it reconnects.
     *
     * @param ctx the stream's connection, on the admin event loop
     * @param req the request that opened it
     */
    void watch(io.netty.channel.ChannelHandlerContext ctx, FullHttpRequest req) {
        String id = sessionId(req);
        if (req.headers().contains(HttpHeaderNames.AUTHORIZATION) || user(req, auth.get()) == null) {
            return;
        }
        var check = ctx.executor().scheduleAtFixedRate(() -> {
            if (sessions.user(id, auth.get()) == null) {
                ctx.close();
            }
        }, WATCH_SECONDS, WATCH_SECONDS, TimeUnit.SECONDS);
        ctx.channel().closeFuture().addListener(f -> check.cancel(false));
    }

    /** {@code GET /login}: the form, or straight to the dashboard for a browser already signed in. */
    FullHttpResponse form(FullHttpRequest req, boolean keepAlive) {
        AdminAuthConfig a = auth.get();
        if (a == null || a.users().isEmpty()) {
            return AdminHandler.response(HttpResponseStatus.NOT_FOUND, "text/plain",
                    "no users are configured (admin.auth.users): nothing to sign in to\n", keepAlive);
        }
        return user(req, a) != null ? redirect(keepAlive) : page(HttpResponseStatus.OK, "", keepAlive);
    }

    /** {@code POST /logout}: ends the session, if any, and sends the browser to the form. */
    FullHttpResponse logout(FullHttpRequest req, boolean keepAlive) {
        sessions.close(sessionId(req));
        FullHttpResponse res = redirect(keepAlive);
        res.headers().add(HttpHeaderNames.SET_COOKIE, setCookie("", 0));
        return res;
    }

    private String setCookie(String value, long maxAge) {
        DefaultCookie c = new DefaultCookie(cookie, value);
        c.setHttpOnly(true);
        c.setSecure(tls);
        c.setPath("/");
        c.setSameSite(CookieHeaderNames.SameSite.Strict);
        c.setMaxAge(maxAge);
        return ServerCookieEncoder.STRICT.encode(c);
    }

    private static FullHttpResponse redirect(boolean keepAlive) {
        FullHttpResponse res = AdminHandler.response(HttpResponseStatus.SEE_OTHER, "text/plain", "see /\n",
                keepAlive);
        res.headers().set(HttpHeaderNames.LOCATION, "/");
        return res;
    }

    /**
     * @param status 200 for the form asked for, 401 where credentials are needed or were wrong
     * @param message a fixed message (never the request's words: nothing is reflected into the page)
     * @return the login page, with the dashboard's security fields
     */
    FullHttpResponse page(HttpResponseStatus status, String message, boolean keepAlive) {
        byte[] body = page.replace("<!--message-->", message).getBytes(StandardCharsets.UTF_8);
        FullHttpResponse res = Dashboard.secured(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body)), "text/html; charset=utf-8");
        if (status.equals(HttpResponseStatus.UNAUTHORIZED)) {
            // A scheme the browser has no prompt for: it shows this page; scripts learn where to sign in.
            res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Form realm=\"Portico admin\", action=\"/login\"");
        }
        HttpUtil.setKeepAlive(res, keepAlive);
        return res;
    }

    /** @return the login page's style sheet (open: the form needs it before anyone signs in) */
    FullHttpResponse css(boolean keepAlive) {
        FullHttpResponse res = Dashboard.secured(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK, Unpooled.wrappedBuffer(css)), "text/css; charset=utf-8");
        HttpUtil.setKeepAlive(res, keepAlive);
        return res;
    }

    private static String one(List<String> values) {
        return values == null || values.size() != 1 ? null : values.get(0);
    }
}
