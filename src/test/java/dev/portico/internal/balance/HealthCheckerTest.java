package dev.portico.internal.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.HealthCheckConfig;
import dev.portico.config.PassiveConfig;
import dev.portico.config.RetryConfig;
import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.testing.TestBackend;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The active health check against real backends, with short intervals. */
@Timeout(30)
class HealthCheckerTest {
    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private HealthChecker checker;

    @AfterEach
    void stop() {
        if (checker != null) {
            checker.close();
        }
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static ConditionFactory await() {
        return Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5));
    }

    private static HealthCheckConfig check(int healthy, int unhealthy, int expectMin, int expectMax) {
        return new HealthCheckConfig("/healthz", Duration.ofMillis(100), Duration.ofMillis(300), healthy, unhealthy,
                expectMin, expectMax);
    }

    private UpstreamGroup startChecking(HealthCheckConfig hc, String... urls) {
        List<ServerConfig> servers = java.util.Arrays.stream(urls)
                .map(u -> new ServerConfig(UpstreamUrl.parse(u), 1)).toList();
        UpstreamConfig c = new UpstreamConfig("checked", servers, UpstreamConfig.Balance.ROUND_ROBIN, null, hc,
                PassiveConfig.DEFAULTS, RetryConfig.DEFAULTS, 0, 0, Duration.ZERO);
        UpstreamGroup g = new UpstreamGroup(c, "checked");
        for (ServerConfig s : servers) {
            g.setAddresses(s, List.of(new InetSocketAddress(s.url().host(), s.url().port())));
        }
        checker = new HealthChecker(g, loops.next(), NioSocketChannel.class);
        checker.start();
        return g;
    }

    /** A backend answering health checks with a status the test sets, counting checks. */
    private static final class Checked {
        final AtomicInteger status = new AtomicInteger(200);
        final AtomicInteger checks = new AtomicInteger();
        final TestBackend backend = TestBackend.start((req, ctx) -> {
            checks.incrementAndGet();
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.valueOf(status.get()), "health"));
        });
    }

    @Test
    void takesAFailingEndpointOutAfterUnhealthyThresholdAndBringsItBackAfterHealthyThreshold() throws Exception {
        Checked b = new Checked();
        try (TestBackend backend = b.backend) {
            UpstreamGroup g = startChecking(check(3, 2, 200, 399), backend.url());
            Endpoint e = g.endpoints().get(0);
            await().until(() -> b.checks.get() >= 3);
            assertThat(e.healthy()).isTrue();

            b.status.set(503);
            int atFailure = b.checks.get();
            await().until(() -> !e.healthy());
            assertThat(b.checks.get() - atFailure).as("failed checks before the endpoint was taken out")
                    .isGreaterThanOrEqualTo(2);

            b.status.set(200);
            int atRecovery = b.checks.get();
            await().until(e::healthy);
            assertThat(b.checks.get() - atRecovery).as("passed checks before the endpoint came back")
                    .isGreaterThanOrEqualTo(3);

            TestBackend.Received r = backend.take();
            assertThat(r.method()).isEqualTo("GET");
            assertThat(r.uri()).isEqualTo("/healthz");
            assertThat(r.headers().get("User-Agent")).isEqualTo("portico-health-check");
            assertThat(r.headers().get("Host")).isEqualTo("127.0.0.1:" + backend.port());
        }
    }

    @Test
    void checksEveryEndpointIndependently() throws Exception {
        Checked good = new Checked();
        Checked bad = new Checked();
        bad.status.set(500);
        try (TestBackend g1 = good.backend; TestBackend b1 = bad.backend) {
            UpstreamGroup g = startChecking(check(1, 1, 200, 399), g1.url(), b1.url());
            Endpoint goodEp = g.endpoints().get(0);
            Endpoint badEp = g.endpoints().get(1);

            await().until(() -> !badEp.healthy());
            await().until(() -> good.checks.get() >= 3);
            assertThat(goodEp.healthy()).isTrue();
            for (int i = 0; i < 100; i++) {
                assertThat(g.select(null, null)).isSameAs(goodEp);
            }
        }
    }

    @Test
    void expectStatusDecidesWhatPasses() throws Exception {
        Checked noContent = new Checked();
        noContent.status.set(204);
        Checked redirect = new Checked();
        redirect.status.set(302);
        try (TestBackend a = noContent.backend; TestBackend b = redirect.backend) {
            UpstreamGroup g = startChecking(check(1, 1, 200, 299), a.url(), b.url());

            await().until(() -> !g.endpoints().get(1).healthy());
            await().until(() -> noContent.checks.get() >= 3);
            assertThat(g.endpoints().get(0).healthy()).isTrue();
        }
    }

    @Test
    void aRefusedConnectionFailsTheCheck() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        UpstreamGroup g = startChecking(check(1, 2, 200, 399), "http://127.0.0.1:" + closedPort);

        await().until(() -> !g.endpoints().get(0).healthy());
    }

    @Test
    void noAnswerWithinTheTimeoutFailsTheCheck() throws Exception {
        try (TestBackend silent = TestBackend.start((req, ctx) -> { })) {
            UpstreamGroup g = startChecking(check(1, 2, 200, 399), silent.url());

            await().until(() -> !g.endpoints().get(0).healthy());
        }
    }

    @Test
    void closeStopsTheChecks() throws Exception {
        Checked b = new Checked();
        try (TestBackend backend = b.backend) {
            startChecking(check(1, 1, 200, 399), backend.url());
            await().until(() -> b.checks.get() >= 2);

            checker.close();
            Thread.sleep(150); // a check already under way may still arrive
            int after = b.checks.get();
            Thread.sleep(400);

            assertThat(b.checks.get()).isEqualTo(after);
        }
    }
}
