package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ListenAddress;
import dev.portico.config.OperationsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Graceful stop: not ready first, serving on through the drain delay, then in-flight exchanges finish. */
class DrainTest {
    private final TestBackend backend = TestBackend.start((req, ctx) -> ctx.executor().schedule(
            () -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "done " + req.uri())),
            req.uri().contains("slow") ? 2500 : 0, TimeUnit.MILLISECONDS));

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    @Test
    @Timeout(30)
    void turnsNotReadyServesThroughTheDelayThenStopsAcceptingAndFinishesInFlightWithConnectionClose()
            throws Exception {
        ProxyServer proxy = new ProxyServer(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                .route("/", backend.url())
                .timeouts(new TimeoutsConfig(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(60),
                        Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMillis(1500)))
                .operations(new OperationsConfig(new ListenAddress("127.0.0.1", 0), true, "X-Request-Id", false,
                        false)).build()).start();
        int port = proxy.port();
        Admin admin = new Admin(proxy.adminAddress());
        RawClient idle = new RawClient(port);
        idle.send("GET /warm HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(idle.read().status()).isEqualTo(200);
        assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);

        CompletableFuture<Void> stopped = CompletableFuture.runAsync(proxy::stop);
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(10))
                .until(() -> admin.get("/readyz").statusCode() == 503);
        // Within the drain delay: still serving, new connections too, and the keep-alive one stays open.
        try (RawClient fresh = new RawClient(port)) {
            fresh.send("GET /during-delay HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = fresh.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isNull();
        }
        RawClient inFlight = new RawClient(port);
        inFlight.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(stopped).isNotDone();

        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20)).until(() -> refuses(port));
        assertThat(idle.closedByPeer()).as("idle keep-alive connection closed at the end of the delay").isTrue();
        RawClient.Response slow = inFlight.read();
        assertThat(slow.status()).isEqualTo(200);
        assertThat(slow.body()).isEqualTo("done /slow");
        assertThat(slow.header("connection")).isEqualTo("close");
        stopped.get(10, TimeUnit.SECONDS);
        inFlight.close();
        idle.close();
    }

    private static boolean refuses(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
