package dev.portico.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AuthFixtures;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpMethod;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** basic_auth through a real proxy: challenges, bcrypt and argon2id users, the cache, reloads. */
@Timeout(60)
class BasicAuthTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();
    @TempDir
    Path dir;

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private void start(BasicAuthPolicyConfig policy) {
        portico.start(b -> b.route("/", r -> r.upstream(backend.url()).policies(policy))
                .route("/open", backend.url()));
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(20));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return portico.send(b.build());
    }

    @Test
    void challengesWithoutCredentialsAndLetsBcryptAndArgon2idUsersThrough() throws Exception {
        start(BasicAuthPolicyConfig.builder().realm("team").user("alice", AuthFixtures.bcrypt("a-pass", 4))
                .user("bob", AuthFixtures.argon2id("b-pass")).build());

        HttpResponse<String> none = get("/x", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("www-authenticate")).hasValue("Basic realm=\"team\", charset=\"UTF-8\"");
        assertThat(backend.pending()).isZero();

        assertThat(get("/x", AuthFixtures.basic("alice", "a-pass")).statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().get("Authorization")).isEqualTo(AuthFixtures.basic("alice", "a-pass"));
        assertThat(get("/y", AuthFixtures.basic("bob", "b-pass")).statusCode()).isEqualTo(200);
        assertThat(backend.take().uri()).isEqualTo("/y");
    }

    @Test
    void wrongPasswordsUnknownUsersAndMalformedAuthorizationGet401AndNothingIsForwarded() throws Exception {
        start(BasicAuthPolicyConfig.builder().user("alice", AuthFixtures.bcrypt("a-pass", 4)).build());

        for (String bad : new String[] {AuthFixtures.basic("alice", "wrong"), AuthFixtures.basic("mallory", "a-pass"),
                "Basic !!!not-base64!!!", "Basic " + java.util.Base64.getEncoder().encodeToString("nocolon".getBytes()),
                "Basic", "Bearer abc", "Basic " + "A".repeat(5000)}) {
            HttpResponse<String> r = get("/", bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(401);
            assertThat(r.headers().firstValue("www-authenticate")).as(bad).hasValueSatisfying(
                    v -> assertThat(v).startsWith("Basic realm=\"portico\""));
            assertThat(r.body()).isEqualTo("Unauthorized\n");
        }
        try (RawClient c = portico.raw()) {
            RawClient.Response raw = c.send("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic \u00e9\u00e9\r\n\r\n")
                    .read(false);
            assertThat(raw.status()).isEqualTo(401);
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void http2StreamsAreChallengedAndResumeAfterTheCheckLikeHttp1() throws Exception {
        BasicAuthPolicyConfig policy = BasicAuthPolicyConfig.builder().user("alice", AuthFixtures.bcrypt("pw", 6))
                .build();
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(backend.url()).policies(policy)).build());
        try (H2Client c = H2Client.connect(portico.port())) {
            H2Client.Result none = c.send(HttpMethod.GET, "/h2", -1, false).get(10, TimeUnit.SECONDS);
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.headers().get("www-authenticate")).startsWith("Basic realm=");
            H2Client.Result ok = c.send(HttpMethod.GET, "/h2", -1, false, "authorization",
                    AuthFixtures.basic("alice", "pw")).get(10, TimeUnit.SECONDS);
            assertThat(ok.status()).isEqualTo(200);
        }
        assertThat(backend.take().uri()).isEqualTo("/h2");
    }

    @Test
    void removeCredentialsDropsAuthorizationBeforeForwarding() throws Exception {
        start(BasicAuthPolicyConfig.builder().user("alice", AuthFixtures.bcrypt("a-pass", 4))
                .removeCredentials(true).build());

        assertThat(get("/", AuthFixtures.basic("alice", "a-pass")).statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().contains("Authorization")).isFalse();
        // the second request is let through from the cache: it too loses the field
        assertThat(get("/", AuthFixtures.basic("alice", "a-pass")).statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().contains("Authorization")).isFalse();
    }

    @Test
    void aLoggedInClientIsLetThroughFromTheCacheWhileAHashCheckNeverBlocksTheEventLoop() throws Exception {
        // cost 12: a check takes a quarter of a second or more, long enough to see the loop serve others meanwhile
        start(BasicAuthPolicyConfig.builder().user("alice", AuthFixtures.bcrypt("a-pass", 12)).build());

        long t0 = System.nanoTime();
        CompletableFuture<HttpResponse<String>> first = portico.client().sendAsync(HttpRequest.newBuilder(
                        portico.uri("/")).header("Authorization", AuthFixtures.basic("alice", "a-pass")).build(),
                HttpResponse.BodyHandlers.ofString());
        // one event loop (workers: 1): an unprotected route answers while the check runs
        HttpResponse<String> open = portico.get("/open");
        boolean checkStillRunning = !first.isDone();
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        long firstNanos = System.nanoTime() - t0;
        assertThat(checkStillRunning).as("the open route answered before the check ended").isTrue();

        long t1 = System.nanoTime();
        assertThat(get("/", AuthFixtures.basic("alice", "a-pass")).statusCode()).isEqualTo(200);
        long secondNanos = System.nanoTime() - t1;
        System.out.printf("basic_auth bcrypt cost 12: first request %.1f ms, second (cached) %.1f ms%n",
                firstNanos / 1e6, secondNanos / 1e6);
        assertThat(secondNanos).isLessThan(firstNanos / 4);
    }

    @Test
    void aChangedHtpasswdFileTakesEffectOnReload() throws Exception {
        Path users = dir.resolve("users.htpasswd");
        Files.writeString(users, "alice:" + AuthFixtures.bcrypt("old", 4) + "\n");
        Path yaml = dir.resolve("portico.yaml");
        Files.writeString(yaml, "listen: 127.0.0.1:0\nworkers: 1\npolicies:\n  team:\n    basic_auth: {users_file: "
                + "users.htpasswd}\nroutes:\n  - {path: /, upstream: \"" + backend.url() + "\", policies: [team]}\n");
        ProxyServer proxy = new ProxyServer(ProxyConfig.load(yaml), yaml).start();
        try {
            int port = proxy.port();
            assertThat(status(port, AuthFixtures.basic("alice", "old"))).isEqualTo(200);

            Files.writeString(users, "alice:" + AuthFixtures.bcrypt("new", 4) + "\n");
            assertThat(proxy.reload().get(20, TimeUnit.SECONDS).applied()).isTrue();

            assertThat(status(port, AuthFixtures.basic("alice", "old"))).isEqualTo(401);
            assertThat(status(port, AuthFixtures.basic("alice", "new"))).isEqualTo(200);
        } finally {
            proxy.stop();
        }
    }

    private int status(int port, String authorization) throws Exception {
        try (RawClient c = new RawClient(port)) {
            return c.send("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: " + authorization + "\r\n\r\n").read(false)
                    .status();
        }
    }
}
