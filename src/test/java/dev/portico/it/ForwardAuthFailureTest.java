package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.config.ForwardAuthPolicyConfig;
import dev.portico.config.ForwardAuthPolicyConfig.OnFailure;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The {@code forward_auth} policy when the auth service fails: hangs, resets, is down, answers garbage (each is
 * {@code on_failure}), or answers 500 (an answer: relayed). Nothing reaches the backend unless allowed, the event
 * loop keeps serving meanwhile, and a client that leaves takes its auth call with it.
 */
@Timeout(30)
class ForwardAuthFailureTest {
    /** Port 1 (tcpmux) has no listener on a loopback test machine: connects are refused. */
    private static final String DOWN = "http://127.0.0.1:1/verify";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.echo();
    private RawBackend rawAuth;

    @AfterEach
    void close() throws IOException {
        backend.close();
        if (rawAuth != null) {
            rawAuth.close();
        }
    }

    private void start(ForwardAuthPolicyConfig policy) {
        portico.start(b -> b.route("/open", backend.url())
                .route("/", r -> r.upstream(backend.url()).policies(policy)));
    }

    private static ForwardAuthPolicyConfig.Builder policy(String url) {
        return ForwardAuthPolicyConfig.builder(url).copyResponseHeaders("X-User").timeout(Duration.ofMillis(400));
    }

    /** An auth service that reads each request head and then does {@code then}. */
    private String rawAuth(RawBackend.Script then) throws IOException {
        rawAuth = RawBackend.start(then);
        return rawAuth.url() + "/verify";
    }

    private HttpResponse<String> getAs(String path, String user) throws Exception {
        return portico.send(HttpRequest.newBuilder(portico.uri(path)).header("X-User", user)
                .timeout(Duration.ofSeconds(10)).build());
    }

    @Test
    void anAuthServiceThatHangsPastTheTimeoutIsDenied() throws Exception {
        CountDownLatch end = new CountDownLatch(1);
        start(policy(rawAuth(c -> {
            c.readHead();
            awaitQuietly(end);
        })).build());
        long t0 = System.nanoTime();
        HttpResponse<String> r = portico.get("/app");
        end.countDown();
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("authentication service unavailable");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(350), Duration.ofSeconds(3));
        assertThat(backend.connections()).isZero();
    }

    @Test
    void anAuthServiceThatHangsIsAllowedWithOnFailureAllowWithoutTheClientsFields() throws Exception {
        CountDownLatch end = new CountDownLatch(1);
        start(policy(rawAuth(c -> {
            c.readHead();
            awaitQuietly(end);
        })).onFailure(OnFailure.ALLOW).build());
        HttpResponse<String> r = getAs("/app", "mallory");
        end.countDown();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().contains("X-User")).isFalse();
    }

    @Test
    void anAuthServiceThatResetsIsDenied() throws Exception {
        start(policy(rawAuth(c -> {
            c.readHead();
            c.reset();
        })).build());
        assertThat(portico.get("/app").statusCode()).isEqualTo(503);
        assertThat(backend.connections()).isZero();
    }

    @Test
    void anAuthServiceThatIsDownIsDeniedOrAllowedAsConfigured() throws Exception {
        start(policy(DOWN).build());
        assertThat(portico.get("/app").statusCode()).isEqualTo(503);
        assertThat(backend.connections()).isZero();
        start(policy(DOWN).onFailure(OnFailure.ALLOW).build());
        HttpResponse<String> r = getAs("/app", "mallory");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().contains("X-User")).isFalse();
    }

    @Test
    void anAuthServiceAnsweringGarbageIsDenied() throws Exception {
        start(policy(rawAuth(c -> {
            c.readHead();
            c.write(c.index() == 0 ? "NOT HTTP AT ALL\r\n\r\n" : "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n");
        })).build());
        assertThat(portico.get("/app").statusCode()).isEqualTo(503);
        assertThat(portico.get("/app").statusCode()).isEqualTo(503);
        assertThat(rawAuth.accepted()).isEqualTo(2);
        assertThat(backend.connections()).isZero();
    }

    @Test
    void a500FromTheAuthServiceIsAnAnswerAndGoesToTheClient() throws Exception {
        try (TestBackend auth = TestBackend.start((req, ctx) -> ctx.writeAndFlush(
                TestBackend.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "auth db down")))) {
            start(policy(auth.url()).onFailure(OnFailure.ALLOW).build());
            HttpResponse<String> r = portico.get("/app");
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.body()).isEqualTo("auth db down");
            assertThat(backend.connections()).isZero();
        }
    }

    @Test
    void aDenialWithABodyOverTheBoundGoesThroughWithoutItsBody() throws Exception {
        try (TestBackend auth = TestBackend.start((req, ctx) -> {
            var r = TestBackend.text(HttpResponseStatus.UNAUTHORIZED, "x".repeat(100 * 1024));
            r.headers().set("WWW-Authenticate", "Bearer");
            ctx.writeAndFlush(r);
        })) {
            start(policy(auth.url()).build());
            HttpResponse<String> r = portico.get("/app");
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertThat(r.body()).isEmpty();
            assertThat(backend.connections()).isZero();
        }
    }

    @Test
    void aPooledConnectionTheServiceDroppedIsRetriedOnceOnANewOne() throws Exception {
        start(policy(rawAuth(c -> {
            c.readHead();
            if (c.index() == 0) {
                c.write("HTTP/1.1 200 OK\r\nX-User: first\r\nContent-Length: 0\r\n\r\n");
                c.readHead(); // the next request arrives on the pooled connection: drop it unanswered
                return;
            }
            c.write("HTTP/1.1 200 OK\r\nX-User: second\r\nContent-Length: 0\r\n\r\n");
            c.readHead();
        })).build());
        assertThat(portico.get("/one").statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().get("X-User")).isEqualTo("first");
        assertThat(portico.get("/two").statusCode()).isEqualTo(200);
        assertThat(backend.take().headers().get("X-User")).isEqualTo("second");
        assertThat(rawAuth.accepted()).isEqualTo(2);
    }

    @Test
    void anHttpsAuthServiceWithAnUntrustedCertificateIsAFailure() throws Exception {
        TestCertificates.Issued cert = TestCertificates.server(TestCertificates.ca("Unknown CA"), "127.0.0.1");
        try (TestBackend tls = TestBackend.startTls(SslContextBuilder.forServer(cert.key(), cert.chain())
                .sslProvider(SslProvider.JDK).build(), (req, ctx) -> ctx.writeAndFlush(
                        TestBackend.text(HttpResponseStatus.OK, "never trusted")))) {
            start(policy("https://127.0.0.1:" + tls.port() + "/verify").timeout(Duration.ofSeconds(5)).build());
            assertThat(portico.get("/app").statusCode()).isEqualTo(503);
            assertThat(tls.pending()).as("no request over an unverified connection").isZero();
            assertThat(backend.connections()).isZero();
        }
    }

    @Test
    void failuresAreLoggedAtMostOnceEveryTenSeconds() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger("dev.portico.internal.policy.ForwardAuthPolicy");
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            start(policy(DOWN).build());
            for (int i = 0; i < 4; i++) {
                assertThat(portico.get("/app").statusCode()).isEqualTo(503);
            }
        } finally {
            log.detachAppender(seen);
        }
        assertThat(seen.list).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("127.0.0.1:1/verify", "GET /app", "on_failure deny");
    }

    @Test
    void theEventLoopServesOtherRequestsWhileAnAuthCallWaits() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        start(policy(rawAuth(c -> {
            c.readHead();
            asked.countDown();
            awaitQuietly(end);
        })).timeout(Duration.ofSeconds(5)).build());
        try (RawClient waiting = portico.raw()) {
            waiting.send("GET /app HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            assertThat(portico.get("/open").statusCode()).isEqualTo(200); // one worker: the same loop
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
            end.countDown();
            assertThat(waiting.read().status()).isEqualTo(503); // the auth service closed without answering
        }
    }

    @Test
    void aClientThatLeavesWhileWaitingClosesTheAuthConnectionAndReachesNoBackend() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch closedByPortico = new CountDownLatch(1);
        start(policy(rawAuth(c -> {
            c.readHead();
            asked.countDown();
            if (c.readBytes(1).length == 0) { // blocks until Portico closes its end
                closedByPortico.countDown();
            }
        })).timeout(Duration.ofSeconds(10)).build());
        try (RawClient c = portico.raw()) {
            c.send("POST /app HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
            assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(closedByPortico.await(5, TimeUnit.SECONDS)).as("the auth call ends with its client").isTrue();
        assertThat(backend.connections()).isZero();
        assertThat(portico.get("/open").statusCode()).isEqualTo(200);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
