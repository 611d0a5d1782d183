package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The admin endpoint's authentication and cross-site rules, over real sockets with the JDK client. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminAuthTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final TestBackend backend = TestBackend.echo();
    private ProxyServer proxy;
    private Path file;
    private String base;

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
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        file = dir.resolve("portico.yaml");
        Files.writeString(file, yaml(auth));
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        base = "http://127.0.0.1:" + proxy.adminAddress().getPort();
    }

    private String yaml(String auth) {
        return "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\nadmin:\n  listen: 127.0.0.1:0\n"
                + auth + "routes:\n  /a: \"" + backend.url() + "\"\n";
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void healthAndReadinessStayOpenWhileEverythingElseAsksForCredentials() throws Exception {
        start("  auth:\n    token_file: token\n    users: {ops: \"" + Hashes.bcrypt("pw") + "\"}\n");

        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").statusCode()).isEqualTo(200);
        for (String path : new String[] {"/config", "/", "/dashboard.js", "/events", "/nowhere"}) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(v ->
                    assertThat(v).startsWith("Basic realm=\"Portico admin\""));
        }
        assertThat(post("/reload").statusCode()).isEqualTo(401);
    }

    @Test
    void theBearerTokenOpensTheApiAndAnyOtherTokenDoesNot() throws Exception {
        start("  auth: {token_file: token}\n");

        assertThat(get("/config", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        assertThat(get("/config", "Authorization", "Bearer " + TOKEN + "x").statusCode()).isEqualTo(401);
        assertThat(get("/config", "Authorization", "Bearer " + TOKEN.substring(1)).statusCode()).isEqualTo(401);
        assertThat(get("/config").headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"Portico admin\"");
        assertThat(post("/reload", "Authorization", "Bearer " + TOKEN).body()).contains("\"applied\":true");
    }

    @Test
    void bcryptAndArgon2idUsersSignInWithBasicAuthAndWrongPasswordsAreRefused() throws Exception {
        start("  auth:\n    users:\n      alice: \"" + Hashes.bcrypt("alice-pw") + "\"\n      bob: \""
                + Hashes.argon2id("bob-pw") + "\"\n");

        assertThat(get("/config", "Authorization", basic("alice", "alice-pw")).statusCode()).isEqualTo(200);
        assertThat(get("/config", "Authorization", basic("bob", "bob-pw")).statusCode()).isEqualTo(200);
        assertThat(get("/", "Authorization", basic("bob", "bob-pw")).body()).contains("<title>Portico dashboard");
        assertThat(get("/config", "Authorization", basic("alice", "bob-pw")).statusCode()).isEqualTo(401);
        assertThat(get("/config", "Authorization", basic("bob", "alice-pw")).statusCode()).isEqualTo(401);
        assertThat(get("/config", "Authorization", basic("carol", "alice-pw")).statusCode()).isEqualTo(401);
        assertThat(get("/config", "Authorization", "Basic !!!").statusCode()).isEqualTo(401);
        // Remembered after a match: the second request is answered without hashing again, and still right.
        assertThat(get("/config", "Authorization", basic("alice", "alice-pw")).statusCode()).isEqualTo(200);
    }

    @Test
    void requestsPipelinedBehindAPasswordCheckAreAnsweredInOrder() throws Exception {
        start("  auth:\n    users: {alice: \"" + Hashes.bcrypt("alice-pw") + "\"}\n");
        String auth = basic("alice", "alice-pw");

        try (RawClient c = new RawClient(proxy.adminAddress().getPort())) {
            c.send("GET /config HTTP/1.1\r\nHost: a\r\nAuthorization: " + auth + "\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /config HTTP/1.1\r\nHost: a\r\nAuthorization: " + basic("alice", "wrong") + "\r\n\r\n"
                    + "GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response first = c.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.body()).startsWith("{\"listen\"");
            assertThat(c.read().body()).isEqualTo("ok\n");
            assertThat(c.read().status()).isEqualTo(401);
            assertThat(c.read().body()).isEqualTo("ready\n");
        }
    }

    @Test
    void metricsNeedCredentialsOnlyWithProtectMetrics() throws Exception {
        start("  auth: {token_file: token, protect_metrics: true}\n");

        assertThat(get("/metrics").statusCode()).isEqualTo(401);
        assertThat(get("/metrics", "Authorization", "Bearer " + TOKEN).body()).contains("portico_reloads_total");
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    void crossSiteReloadsAreRefusedEvenWithValidCredentials() throws Exception {
        start("  auth: {token_file: token}\n");
        String auth = "Bearer " + TOKEN;

        assertThat(post("/reload", "Authorization", auth, "Origin", "http://evil.example").statusCode())
                .isEqualTo(403);
        assertThat(post("/reload", "Authorization", auth, "Sec-Fetch-Site", "cross-site").statusCode())
                .isEqualTo(403);
        assertThat(post("/reload", "Authorization", auth, "Sec-Fetch-Site", "same-site").statusCode())
                .isEqualTo(403);
        assertThat(post("/reload", "Authorization", auth, "Origin", "null").statusCode()).isEqualTo(403);
        String self = "http://127.0.0.1:" + proxy.adminAddress().getPort();
        HttpResponse<String> same = post("/reload", "Authorization", auth, "Origin", self,
                "Sec-Fetch-Site", "same-origin");
        assertThat(same.statusCode()).isEqualTo(200);
        assertThat(same.body()).contains("\"applied\":true");
    }

    @Test
    void aCrossSiteReloadIsRefusedWithoutAuthToo() throws Exception {
        start("");

        assertThat(post("/reload", "Origin", "http://evil.example").statusCode()).isEqualTo(403);
        assertThat(post("/reload").statusCode()).isEqualTo(200);
        assertThat(get("/config").statusCode()).isEqualTo(200);
    }

    @Test
    void aRotatedTokenFileTakesEffectOnReload() throws Exception {
        start("  auth: {token_file: token}\n");
        String next = "fedcba9876543210fedcba9876543210";
        Files.writeString(dir.resolve("token"), next);

        assertThat(post("/reload", "Authorization", "Bearer " + TOKEN).body()).contains("\"applied\":true");
        assertThat(get("/config", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(get("/config", "Authorization", "Bearer " + next).statusCode()).isEqualTo(200);
    }

    @Test
    void configRedactsTheTokenAndTheHashesButNamesTheTokenFile() throws Exception {
        String hash = Hashes.bcrypt("pw");
        start("  auth:\n    token_file: token\n    users: {ops: \"" + hash + "\"}\n");

        String json = get("/config", "Authorization", "Bearer " + TOKEN).body();
        assertThat(json).doesNotContain(TOKEN).doesNotContain(hash).contains("\"token\":\"<redacted>\"")
                .contains("\"users\":{\"ops\":\"<redacted>\"}").contains(dir.resolve("token").toString());
    }

    @Test
    void theAdminListenerServesTlsWithTheListenersKeys() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("admin-ca");
        TestCertificates.Pem pem = TestCertificates.server(ca, "localhost").write(dir, "admin");
        start("  tls: {certificate: " + pem.certificate() + ", key: " + pem.key() + "}\n");
        HttpClient tls = HttpClient.newBuilder().sslContext(TestCertificates.trusting(ca))
                .version(HttpClient.Version.HTTP_1_1).build();

        HttpResponse<String> r = tls.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                + proxy.adminAddress().getPort() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok\n");
        // The dashboard lists the certificate with its names and days to expiry.
        var events = tls.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                + proxy.adminAddress().getPort() + "/events")).build(), HttpResponse.BodyHandlers.ofLines());
        String full;
        try (var lines = events.body()) {
            full = lines.filter(l -> l.startsWith("data: ")).findFirst().orElseThrow();
        }
        assertThat(full).contains("{\"key\":\"admin.tls.certificates[0]\"", "\"names\":[\"localhost\"]",
                "\"days\":");
    }
}
