package dev.portico.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Users' own policies through the public API: asynchronous decisions, failures, and loading from YAML. */
@Timeout(30)
class CustomPolicyTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.echo();
    private final ScheduledExecutorService elsewhere = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void close() {
        backend.close();
        elsewhere.shutdownNow();
    }

    /** Decides on another thread after a delay: lets through requests with a token, answers 401 otherwise. */
    final class SlowAuth implements Policy {
        final AtomicInteger decided = new AtomicInteger();

        @Override
        public Decision onRequest(RequestContext request) {
            String token = request.headers().get("X-Token");
            Suspension s = request.suspend(Duration.ofSeconds(5));
            elsewhere.schedule(() -> {
                decided.incrementAndGet();
                if ("good".equals(token)) {
                    s.proceed();
                } else {
                    s.respond(LocalResponse.text(401, "who are you?\n"));
                }
            }, 200, TimeUnit.MILLISECONDS);
            return Decision.suspended();
        }
    }

    private void start(Policy policy) {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(backend.url()).policy(policy)).build());
    }

    @Test
    void aSuspendedRequestKeepsItsBodyAndResumesFromAnotherThread() throws Exception {
        SlowAuth auth = new SlowAuth();
        start(auth);
        try (RawClient c = portico.raw()) {
            c.send("POST /upload HTTP/1.1\r\nHost: h\r\nX-Token: good\r\nContent-Length: 11\r\n\r\nhello world");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(backend.take().body()).isEqualTo("hello world");
            // The connection goes on: a refused request next on it, then an accepted one.
            c.send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(401);
            c.send("GET /y HTTP/1.1\r\nHost: h\r\nX-Token: good\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        try (H2Client h2 = H2Client.connect(portico.port())) {
            H2Client.Result up = h2.send(HttpMethod.POST, "/h2", 50_000, false, "x-token", "good")
                    .get(10, TimeUnit.SECONDS);
            assertThat(up.status()).isEqualTo(200);
            H2Client.Result no = h2.send(HttpMethod.GET, "/h2", -1, false).get(10, TimeUnit.SECONDS);
            assertThat(no.status()).isEqualTo(401);
        }
    }

    @Test
    void aClientThatLeavesWhileSuspendedReachesNoBackend() throws Exception {
        CountDownLatch suspended = new CountDownLatch(1);
        AtomicReference<Suspension> handle = new AtomicReference<>();
        start(new Policy() {
            @Override
            public Decision onRequest(RequestContext request) {
                handle.set(request.suspend(Duration.ofSeconds(10)));
                suspended.countDown();
                return Decision.suspended();
            }
        });
        try (RawClient c = portico.raw()) {
            c.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
            assertThat(suspended.await(5, TimeUnit.SECONDS)).isTrue();
        }
        Thread.sleep(100); // let the close reach the proxy before the late decision
        handle.get().proceed(); // too late: nothing happens, nothing leaks
        Thread.sleep(200);
        assertThat(backend.pending()).isZero();
        handle.set(null);
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> handle.get() != null);
            handle.get().proceed(); // the proxy itself is fine: the next suspended request goes through
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void aPolicyThatThrowsGets500AndTheConnectionStaysUsable() throws Exception {
        start(new Policy() {
            @Override
            public Decision onRequest(RequestContext request) {
                if (request.path().equals("/boom")) {
                    throw new IllegalStateException("boom");
                }
                return Decision.proceed();
            }
        });
        try (RawClient c = portico.raw()) {
            c.send("GET /boom HTTP/1.1\r\nHost: h\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(500);
            assertThat(r.body()).doesNotContain("IllegalStateException");
            c.send("GET /fine HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void aSuspensionThatNeverDecidesIsAnsweredWith504() throws Exception {
        start(new Policy() {
            @Override
            public Decision onRequest(RequestContext request) {
                request.suspend(Duration.ofMillis(300));
                return Decision.suspended();
            }
        });
        assertThat(portico.get("/").statusCode()).isEqualTo(504);
        assertThat(backend.pending()).isZero();
    }

    /** A policy loaded from YAML by class name, with its settings. */
    public static final class Stamp implements Policy {
        private final String value;

        /** @param settings {@code value}: what to stamp */
        public Stamp(Map<String, Object> settings) {
            this.value = String.valueOf(settings.get("value"));
        }

        @Override
        public Decision onRequest(RequestContext request) {
            request.headers().set("X-Stamp", value);
            return Decision.proceed();
        }

        @Override
        public void onResponse(RequestContext request, ResponseHead response) {
            response.headers().set("X-Stamped", value);
        }
    }

    @Test
    void aPolicyClassNamedInYamlRunsWithItsSettings(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\nroutes:\n  - path: /\n    upstream: " + backend.url()
                + "\n    policies:\n      - class: " + Stamp.class.getName() + "\n        settings: {value: v1}\n");
        portico.start(ProxyConfig.load(file));
        var r = portico.get("/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-stamped")).hasValue("v1");
        assertThat(backend.take().headers().get("X-Stamp")).isEqualTo("v1");
    }

    @Test
    void readmesApiKeyExampleRefusesWithoutTheKeyAndHidesItFromTheBackend() throws Exception {
        start(new ApiKeyPolicy(Map.of("key", "s3cret")));
        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            RawClient.Response refused = c.read();
            assertThat(refused.status()).isEqualTo(401);
            assertThat(refused.header("x-checked-by")).isEqualTo("portico");
            c.send("GET / HTTP/1.1\r\nHost: h\r\nX-Api-Key: s3cret\r\n\r\n");
            assertThat(c.read().header("x-checked-by")).isEqualTo("portico");
        }
        assertThat(backend.take().headers().contains("X-Api-Key")).isFalse();
    }
}
