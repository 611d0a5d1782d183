package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portico.config.ForwardAuthPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.H2Client;
import dev.portico.testing.LoadRunner;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code forward_auth} policy against a real auth service and backend on sockets: what the auth service sees,
 * what a 2xx lets through, what any other answer sends the client, and that the request body waits for the decision.
 */
@Timeout(30)
class ForwardAuthTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.echo();
    private final TestBackend auth = TestBackend.start((req, ctx) -> ctx.writeAndFlush(allow("alice")));

    @AfterEach
    void close() {
        backend.close();
        auth.close();
    }

    static FullHttpResponse allow(String user) {
        FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "ok");
        r.headers().add("X-User", user).add("X-Groups", "admins").add("X-Groups", "ops").add("X-Internal", "no");
        return r;
    }

    private void start(ForwardAuthPolicyConfig policy) {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(backend.url()).policies(policy)).build());
    }

    private ForwardAuthPolicyConfig.Builder policy() {
        return ForwardAuthPolicyConfig.builder(auth.url() + "/verify?rd=1").copyResponseHeaders("X-User", "X-Groups",
                "X-Email");
    }

    @Test
    void a2xxLetsTheRequestThroughWithTheAnswersFieldsReplacingTheClientsCopies() throws Exception {
        start(policy().build());
        HttpResponse<String> r = portico.send(HttpRequest.newBuilder(portico.uri("/app")).header("X-User", "mallory")
                .header("X-Groups", "root").header("X-Email", "mallory@evil.example").build());
        assertThat(r.statusCode()).isEqualTo(200);
        TestBackend.Received got = backend.take();
        assertThat(got.headers().getAll("X-User")).containsExactly("alice");
        assertThat(got.headers().getAll("X-Groups")).containsExactly("admins", "ops");
        assertThat(got.headers().contains("X-Email")).as("absent from the answer: the client's copy is removed")
                .isFalse();
        assertThat(got.headers().contains("X-Internal")).as("not in copy_response_headers").isFalse();
    }

    @Test
    void a401IsRelayedWithItsFieldsAndBodyAndNothingReachesTheBackend() throws Exception {
        auth.script((req, ctx) -> {
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.UNAUTHORIZED, "who are you?");
            r.headers().set("WWW-Authenticate", "Basic realm=\"sso\"").set("Connection", "keep-alive, X-Hop")
                    .set("X-Hop", "hop-by-hop");
            ctx.writeAndFlush(r);
        });
        start(policy().build());
        HttpResponse<String> r = portico.get("/app/secret");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.body()).isEqualTo("who are you?");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"sso\"");
        assertThat(r.headers().firstValue("X-Hop")).as("named in Connection: hop-by-hop").isEmpty();
        assertThat(auth.take().uri()).isEqualTo("/verify?rd=1");
        assertThat(backend.connections()).isZero();
    }

    @Test
    void aRedirectToTheLoginPageIsRelayed() throws Exception {
        auth.script((req, ctx) -> {
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.FOUND, "");
            r.headers().set("Location", "https://login.example/?rd=" + req.headers().get("X-Forwarded-Uri"))
                    .set("Set-Cookie", "csrf=abc; HttpOnly");
            ctx.writeAndFlush(r);
        });
        start(policy().build());
        HttpResponse<String> r = portico.get("/app/page?x=1");
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("Location")).hasValue("https://login.example/?rd=/app/page?x=1");
        assertThat(r.headers().firstValue("Set-Cookie")).hasValue("csrf=abc; HttpOnly");
        assertThat(backend.connections()).isZero();
    }

    @Test
    void theAuthServiceSeesTheOriginalMethodWithoutBodyTheForwardedFieldsAndEveryOtherField() throws Exception {
        start(policy().build());
        try (RawClient c = portico.raw()) {
            c.send("POST /app/x?q=1 HTTP/1.1\r\nHost: app.example:8080\r\nCookie: s=1\r\nAuthorization: Bearer t\r\n"
                    + "X-Forwarded-Prefix: /evil\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: keep-alive, X-Drop\r\n"
                    + "X-Drop: 1\r\nContent-Length: 5\r\n\r\nhello");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestBackend.Received seen = auth.take();
        assertThat(seen.method()).isEqualTo("POST");
        assertThat(seen.uri()).isEqualTo("/verify?rd=1");
        assertThat(seen.body()).isEmpty();
        assertThat(seen.headers().get("Content-Length")).isEqualTo("0");
        assertThat(seen.headers().get("Host")).isEqualTo("127.0.0.1:" + auth.port());
        assertThat(seen.headers().get("X-Forwarded-Method")).isEqualTo("POST");
        assertThat(seen.headers().get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(seen.headers().get("X-Forwarded-Host")).isEqualTo("app.example:8080");
        assertThat(seen.headers().get("X-Forwarded-Uri")).isEqualTo("/app/x?q=1");
        assertThat(seen.headers().getAll("X-Forwarded-For")).containsExactly("127.0.0.1");
        assertThat(seen.headers().get("Cookie")).isEqualTo("s=1");
        assertThat(seen.headers().get("Authorization")).isEqualTo("Bearer t");
        assertThat(seen.headers().contains("X-Forwarded-Prefix")).isFalse();
        assertThat(seen.headers().contains("X-Drop")).isFalse();
        assertThat(backend.take().body()).isEqualTo("hello");
    }

    @Test
    void copyRequestHeadersSendsOnlyTheListedFields() throws Exception {
        start(policy().copyRequestHeaders("Cookie").build());
        HttpResponse<String> r = portico.send(HttpRequest.newBuilder(portico.uri("/a")).header("Cookie", "s=2")
                .header("Authorization", "Bearer t").header("X-Other", "1").build());
        assertThat(r.statusCode()).isEqualTo(200);
        TestBackend.Received seen = auth.take();
        assertThat(seen.headers().get("Cookie")).isEqualTo("s=2");
        assertThat(seen.headers().contains("Authorization")).isFalse();
        assertThat(seen.headers().contains("X-Other")).isFalse();
        assertThat(seen.headers().contains("User-Agent")).isFalse();
        assertThat(seen.headers().get("X-Forwarded-Uri")).isEqualTo("/a");
        assertThat(backend.take().headers().get("Authorization")).as("the backend still gets it").isEqualTo("Bearer t");
    }

    @Test
    void theBodyIsNotReadUntilTheAuthServiceAllowsThenArrivesIntact() throws Exception {
        CountDownLatch decide = new CountDownLatch(1);
        auth.script((req, ctx) -> ctx.executor().execute(() -> {
            awaitQuietly(decide); // holds the auth service's loop: nothing else is asked of it
            ctx.writeAndFlush(allow("bob"));
        }));
        start(policy().build());
        try (RawClient c = portico.raw()) {
            c.send("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
            assertThat(auth.take().method()).isEqualTo("POST");
            c.socket().setSoTimeout(300);
            assertThatThrownBy(c::read).as("no 100 Continue before the decision")
                    .isInstanceOf(SocketTimeoutException.class);
            c.socket().setSoTimeout(5000);
            decide.countDown();
            assertThat(c.read().status()).isEqualTo(100);
            c.send("hello world");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestBackend.Received got = backend.take();
        assertThat(got.body()).isEqualTo("hello world");
        assertThat(got.headers().get("X-User")).isEqualTo("bob");
    }

    @Test
    void whileTheAuthServiceDecidesNoBodyIsReadThenAll64MiBArrive() throws Exception {
        long size = 64L << 20;
        CountDownLatch decide = new CountDownLatch(1);
        auth.script((req, ctx) -> ctx.executor().execute(() -> {
            awaitQuietly(decide);
            ctx.writeAndFlush(allow("frank"));
        }));
        AtomicLong received = new AtomicLong();
        try (RawBackend counting = RawBackend.start(c -> {
            c.readHead();
            for (long left = size; left > 0; left -= 65536) {
                received.addAndGet(c.readBytes((int) Math.min(65536, left)).length);
            }
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        })) {
            portico.start(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .route("/", r -> r.upstream(counting.url()).policies(policy().build())).build());
            AtomicLong written = new AtomicLong();
            try (RawClient c = portico.raw()) {
                c.send("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: " + size + "\r\n\r\n");
                Thread writer = new Thread(() -> {
                    byte[] chunk = new byte[65536];
                    try {
                        for (long left = size; left > 0; left -= chunk.length) {
                            c.send(chunk);
                            written.addAndGet(chunk.length);
                        }
                    } catch (IOException e) {
                        // the test fails on the counts below
                    }
                });
                writer.start();
                assertThat(auth.take().uri()).isEqualTo("/verify?rd=1");
                long[] last = {-1};
                Awaitility.await().pollInterval(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10))
                        .until(() -> last[0] == (last[0] = written.get())); // the client's writes have stalled
                assertThat(written.get()).as("only socket buffers hold the body").isLessThan(16L << 20);
                assertThat(received.get()).isZero();
                decide.countDown();
                writer.join(20_000);
                assertThat(c.read().status()).isEqualTo(200);
            }
            assertThat(received.get()).isEqualTo(size);
        }
    }

    @Test
    void aRefusedRequestNeverGetsA100ContinueSoItsBodyIsNeverSent() throws Exception {
        auth.script((req, ctx) -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.FORBIDDEN, "no")));
        start(policy().build());
        try (RawClient c = portico.raw()) {
            c.send("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.body()).isEqualTo("no");
        }
        assertThat(backend.connections()).isZero();
    }

    @Test
    void aPostBodySentAtOnceIsForwardedIntactAfterTheDecision() throws Exception {
        auth.script((req, ctx) -> ctx.executor().schedule(() -> ctx.writeAndFlush(allow("carol")), 200,
                TimeUnit.MILLISECONDS));
        start(policy().build());
        String body = "x".repeat(300_000);
        HttpResponse<String> r = portico.send(HttpRequest.newBuilder(portico.uri("/post"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(backend.take().body()).isEqualTo(body);
        assertThat(auth.take().body()).isEmpty();
    }

    @Test
    void decisionsReuseOnePooledConnectionToTheAuthService() throws Exception {
        start(policy().build());
        for (int i = 0; i < 5; i++) {
            assertThat(portico.get("/n" + i).statusCode()).isEqualTo(200);
        }
        assertThat(auth.connections()).isEqualTo(1);
    }

    @Test
    void concurrentRequestsShareAFewPooledConnectionsToTheAuthService() throws Exception {
        start(policy().build());
        try (LoadRunner load = new LoadRunner(portico.uri("/load"), 800, 16)) {
            load.await(Duration.ofSeconds(25));
            assertThat(load.failures()).isEmpty();
            assertThat(load.completed()).isEqualTo(800);
        }
        assertThat(auth.connections()).as("at most one per request in flight").isBetween(1, 16);
        assertThat(auth.pending()).isEqualTo(800);
    }

    @Test
    void worksForHttp2ClientsToo() throws Exception {
        auth.script((req, ctx) -> ctx.writeAndFlush("good".equals(req.headers().get("X-Token")) ? allow("dave")
                : TestBackend.text(HttpResponseStatus.UNAUTHORIZED, "h2 denied")));
        start(policy().build());
        try (H2Client h2 = H2Client.connect(portico.port())) {
            H2Client.Result ok = h2.send(HttpMethod.POST, "/h2", 50_000, false, "x-token", "good", "x-user", "eve")
                    .get(10, TimeUnit.SECONDS);
            assertThat(ok.status()).isEqualTo(200);
            H2Client.Result no = h2.send(HttpMethod.GET, "/h2", -1, false).get(10, TimeUnit.SECONDS);
            assertThat(no.status()).isEqualTo(401);
            assertThat(no.bodyStart()).isEqualTo("h2 denied");
        }
        assertThat(auth.take().headers().get("X-Forwarded-Host")).isEqualTo("127.0.0.1");
        assertThat(auth.take().headers().get("X-Forwarded-Proto")).isEqualTo("http");
        TestBackend.Received got = backend.take();
        assertThat(got.body()).hasSize(50_000);
        assertThat(got.headers().getAll("X-User")).containsExactly("dave");
        assertThat(backend.pending()).isZero();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
