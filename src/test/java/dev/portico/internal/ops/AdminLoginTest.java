package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's login form and session cookie, over real sockets with the JDK client (no redirects followed). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminLoginTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";
    private static final String PASSWORD = "ops-pw";
    private static final String HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    private final TestBackend backend = TestBackend.echo();
    private ProxyServer proxy;
    private Path file;
    private String base;
    private HttpClient client = CLIENT;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
    }

    private void start(String auth) throws Exception {
        start(auth, "", "http");
    }

    private void start(String auth, String tls, String scheme) throws Exception {
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        file = dir.resolve("portico.yaml");
        Files.writeString(file, yaml(auth + tls));
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        base = scheme + "://" + (scheme.equals("https") ? "localhost" : "127.0.0.1") + ":"
                + proxy.adminAddress().getPort();
    }

    private String yaml(String admin) {
        return "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\nadmin:\n  listen: 127.0.0.1:0\n"
                + admin + "routes:\n  /a: \"" + backend.url() + "\"\n";
    }

    private static String users(String hash) {
        return "  auth:\n    token_file: token\n    users: {ops: \"" + hash + "\"}\n";
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The fields a browser sends with a form it submits to the page's own origin. */
    private String[] sameOrigin(String... more) {
        List<String> h = new ArrayList<>(List.of("Origin", base, "Sec-Fetch-Site", "same-origin"));
        h.addAll(List.of(more));
        return h.toArray(String[]::new);
    }

    private HttpResponse<String> login(String user, String password) throws Exception {
        String form = "user=" + URLEncoder.encode(user, StandardCharsets.UTF_8) + "&password="
                + URLEncoder.encode(password, StandardCharsets.UTF_8);
        return post("/login", form, sameOrigin("Content-Type", "application/x-www-form-urlencoded"));
    }

    /** @return the {@code name=value} of the session cookie a successful sign-in sets */
    private String signIn() throws Exception {
        HttpResponse<String> r = login("ops", PASSWORD);
        assertThat(r.statusCode()).isEqualTo(303);
        String set = r.headers().firstValue("Set-Cookie").orElseThrow();
        return set.substring(0, set.indexOf(';'));
    }

    @Test
    void aBrowserWithoutCredentialsGetsTheLoginFormAndAScriptTheBasicChallenge() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));

        for (String path : new String[] {"/", "/dashboard.js", "/config"}) {
            HttpResponse<String> page = get(path, "Accept", HTML);
            assertThat(page.statusCode()).as(path).isEqualTo(401);
            assertThat(page.body()).as(path).contains("<form id=\"login-form\" method=\"post\" action=\"/login\">");
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v ->
                    assertThat(v).startsWith("default-src 'self'").contains("frame-ancestors 'none'"));
            // No Basic challenge: it would bring up the browser's own prompt instead of this page.
            assertThat(page.headers().allValues("WWW-Authenticate")).as(path).noneMatch(v -> v.startsWith("Basic"));
        }
        // The event stream as EventSource asks for it: a browser's fetch, labelled by Sec-Fetch-Mode.
        HttpResponse<String> events = get("/events", "Accept", "text/event-stream", "Sec-Fetch-Mode", "cors");
        assertThat(events.statusCode()).isEqualTo(401);
        assertThat(events.body()).contains("id=\"login-form\"");
        assertThat(get("/login").body()).contains("id=\"login-form\"");
        assertThat(get("/login.css").statusCode()).isEqualTo(200);

        for (String path : new String[] {"/config", "/", "/events"}) {
            HttpResponse<String> script = get(path);
            assertThat(script.statusCode()).as(path).isEqualTo(401);
            assertThat(script.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(v ->
                    assertThat(v).startsWith("Basic realm=\"Portico admin\""));
            assertThat(script.body()).as(path).isEqualTo("authentication required\n");
        }
    }

    @Test
    void aWrongPasswordAndAnUnknownUserGetTheSameFormAgainAndNoCookie() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));

        HttpResponse<String> wrong = login("ops", "not-the-password");
        HttpResponse<String> unknown = login("carol", PASSWORD);
        for (HttpResponse<String> r : List.of(wrong, unknown)) {
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
            assertThat(r.body()).contains("id=\"login-form\"").contains(AdminLogin.FAILED);
        }
        assertThat(unknown.body()).isEqualTo(wrong.body());
        assertThat(login("", "").statusCode()).isEqualTo(401);
        assertThat(post("/login", "user=ops&password=" + PASSWORD, sameOrigin("Content-Type", "text/plain"))
                .statusCode()).isEqualTo(415);
    }

    @Test
    void theRightPasswordSetsAStrictHttpOnlyCookieThatOpensConfigAndTheEventStream() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));

        HttpResponse<String> r = login("ops", PASSWORD);
        assertThat(r.statusCode()).isEqualTo(303);
        assertThat(r.headers().firstValue("Location")).hasValue("/");
        String set = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(set).matches("portico-session=[A-Za-z0-9_-]{43}; Max-Age=43200; Expires=.*")
                .contains("; Path=/", "; HTTPOnly", "; SameSite=Strict").doesNotContain("Secure");
        String cookie = set.substring(0, set.indexOf(';'));
        String other = signIn();
        assertThat(other).as("a new random id for each sign-in").isNotEqualTo(cookie);
        HttpResponse<String> again = post("/login", "user=ops&password=" + PASSWORD,
                sameOrigin("Content-Type", "application/x-www-form-urlencoded", "Cookie", other));
        assertThat(again.statusCode()).isEqualTo(303);
        assertThat(get("/config", "Cookie", other).statusCode()).as("the session signed in over is ended")
                .isEqualTo(401);

        HttpResponse<String> config = get("/config", "Cookie", cookie);
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat(config.body()).startsWith("{\"listen\"");
        assertThat(get("/", "Cookie", cookie, "Accept", HTML).body()).contains("<title>Portico dashboard");
        assertThat(get("/session", "Cookie", cookie).body()).isEqualTo("{\"cookie\":true,\"user\":\"ops\"}\n");
        assertThat(get("/login", "Cookie", cookie).statusCode()).as("signed in already: to the dashboard")
                .isEqualTo(303);
        var events = client.send(HttpRequest.newBuilder(URI.create(base + "/events")).header("Cookie", cookie)
                .build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(events.statusCode()).isEqualTo(200);
        try (var lines = events.body()) {
            assertThat(lines.filter(l -> l.startsWith("data: ")).findFirst().orElseThrow()).contains("\"routes\"");
        }
        assertThat(get("/config", "Cookie", "portico-session=" + "A".repeat(43)).statusCode()).isEqualTo(401);
    }

    @Test
    void aCrossSiteReloadWithTheCookieIsRefusedAndASameOriginOneIsDone() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));
        String cookie = signIn();

        assertThat(post("/reload", "", "Cookie", cookie, "Origin", "http://evil.example").statusCode())
                .isEqualTo(403);
        assertThat(post("/reload", "", "Cookie", cookie, "Sec-Fetch-Site", "cross-site").statusCode())
                .isEqualTo(403);
        assertThat(post("/cache/purge", "{\"host\":\"a\"}", "Cookie", cookie, "Sec-Fetch-Site", "same-site")
                .statusCode()).isEqualTo(403);
        assertThat(post("/login", "user=ops&password=" + PASSWORD, "Origin", "http://evil.example",
                "Content-Type", "application/x-www-form-urlencoded").statusCode()).isEqualTo(403);
        HttpResponse<String> same = post("/reload", "", sameOrigin("Cookie", cookie));
        assertThat(same.statusCode()).isEqualTo(200);
        assertThat(same.body()).contains("\"applied\":true");
        assertThat(get("/config", "Cookie", cookie).statusCode()).as("a reload that leaves admin.auth alone")
                .isEqualTo(200);
        assertThat(post("/reload", "").statusCode()).as("no cookie, no credentials").isEqualTo(401);
    }

    @Test
    void signingOutEndsTheSessionAndClearsTheCookie() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));
        String cookie = signIn();

        assertThat(post("/logout", "", "Cookie", cookie, "Origin", "http://evil.example").statusCode())
                .isEqualTo(403);
        assertThat(get("/config", "Cookie", cookie).statusCode()).isEqualTo(200);
        HttpResponse<String> out = post("/logout", "", sameOrigin("Cookie", cookie));
        assertThat(out.statusCode()).isEqualTo(303);
        assertThat(out.headers().firstValue("Location")).hasValue("/");
        assertThat(out.headers().firstValue("Set-Cookie")).hasValueSatisfying(v ->
                assertThat(v).startsWith("portico-session=; Max-Age=0;"));
        assertThat(get("/config", "Cookie", cookie).statusCode()).isEqualTo(401);
        assertThat(get("/", "Cookie", cookie, "Accept", HTML).body()).contains("id=\"login-form\"");
    }

    @Test
    void anEventStreamOpenedWithTheCookieIsClosedWhenItsSessionEnds() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));
        String cookie = signIn();
        String basic = "Basic " + Base64.getEncoder().encodeToString(("ops:" + PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        var byCookie = client.send(HttpRequest.newBuilder(URI.create(base + "/events")).header("Cookie", cookie)
                .build(), HttpResponse.BodyHandlers.ofLines());
        var byBasic = client.send(HttpRequest.newBuilder(URI.create(base + "/events")).header("Cookie", cookie)
                .header("Authorization", basic).build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(byCookie.statusCode()).isEqualTo(200);
        assertThat(byBasic.statusCode()).isEqualTo(200);
        var cookieEnded = CompletableFuture.runAsync(() -> byCookie.body().forEach(l -> { }));
        var basicEnded = CompletableFuture.runAsync(() -> byBasic.body().forEach(l -> { }));

        // At least one check passes with the session alive: the stream stays open.
        await().during(Duration.ofMillis(TimeUnit.SECONDS.toMillis(AdminLogin.WATCH_SECONDS) + 500))
                .atMost(Duration.ofSeconds(AdminLogin.WATCH_SECONDS * 3)).until(() -> !cookieEnded.isDone());
        assertThat(post("/logout", "", sameOrigin("Cookie", cookie)).statusCode()).isEqualTo(303);
        await().atMost(Duration.ofSeconds(AdminLogin.WATCH_SECONDS * 3)).until(cookieEnded::isDone);
        assertThat(basicEnded).as("a stream opened with basic credentials is not the session's").isNotDone();
        byBasic.body().close();
    }

    @Test
    void aReloadThatChangesTheUsersEndsTheirSessions() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));
        String cookie = signIn();

        Files.writeString(file, yaml(users(Hashes.bcrypt("a-new-password"))));
        assertThat(post("/reload", "", sameOrigin("Cookie", cookie)).body()).contains("\"applied\":true");
        assertThat(get("/config", "Cookie", cookie).statusCode()).isEqualTo(401);
        assertThat(login("ops", PASSWORD).statusCode()).isEqualTo(401);
        assertThat(login("ops", "a-new-password").statusCode()).isEqualTo(303);
    }

    @Test
    void basicAndBearerStillAuthenticateScriptsAndATokenOnlyEndpointHasNoForm() throws Exception {
        start(users(Hashes.bcrypt(PASSWORD)));
        String basic = "Basic " + Base64.getEncoder().encodeToString(("ops:" + PASSWORD)
                .getBytes(StandardCharsets.UTF_8));

        assertThat(get("/config", "Authorization", basic).statusCode()).isEqualTo(200);
        assertThat(get("/", "Authorization", basic, "Accept", HTML).body()).contains("<title>Portico dashboard");
        assertThat(get("/session", "Authorization", basic).body()).isEqualTo("{\"cookie\":false}\n");
        assertThat(get("/config", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        assertThat(post("/reload", "", "Authorization", "Bearer " + TOKEN).body()).contains("\"applied\":true");
        assertThat(get("/config", "Authorization", "Bearer nope-nope-nope-nope", "Accept", HTML).statusCode())
                .isEqualTo(401);

        proxy.close();
        start("  auth: {token_file: token}\n");
        HttpResponse<String> page = get("/", "Accept", HTML);
        assertThat(page.statusCode()).isEqualTo(401);
        assertThat(page.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"Portico admin\"");
        assertThat(login("ops", PASSWORD).statusCode()).isEqualTo(404);
        assertThat(get("/login", "Accept", HTML).statusCode()).isEqualTo(404);
    }

    @Test
    void overTlsTheCookieIsSecureAndHostOnly() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("admin-ca");
        TestCertificates.Pem pem = TestCertificates.server(ca, "localhost").write(dir, "admin");
        client = HttpClient.newBuilder().sslContext(TestCertificates.trusting(ca)).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        start(users(Hashes.bcrypt(PASSWORD)), "  tls: {certificate: " + pem.certificate() + ", key: " + pem.key()
                + "}\n", "https");

        HttpResponse<String> r = login("ops", PASSWORD);
        assertThat(r.statusCode()).isEqualTo(303);
        String set = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(set).startsWith("__Host-portico-session=").contains("; Secure", "; HTTPOnly", "; Path=/",
                "; SameSite=Strict").doesNotContain("Domain");
        assertThat(get("/config", "Cookie", set.substring(0, set.indexOf(';'))).statusCode()).isEqualTo(200);
    }
}
