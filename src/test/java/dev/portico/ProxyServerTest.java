package dev.portico;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ProxyConfig;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The public Java API: the seed's constructor, the builder, start and graceful stop. */
@Timeout(30)
class ProxyServerTest {

    @Test
    void seedConstructorProxiesOnAnEphemeralPort() throws Exception {
        try (TestBackend api = TestBackend.echo(); TestBackend web = TestBackend.echo()) {
            ProxyServer proxy = new ProxyServer("localhost", 0, Map.of("/api", api.url(), "/web", web.url()));
            proxy.start();
            try (RawClient c = new RawClient(proxy.port())) {
                c.send("GET /api/hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertThat(c.read().body()).isEqualTo("GET /api/hello\n");
                c.send("GET /web/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertThat(c.read().body()).isEqualTo("GET /web/\n");
            } finally {
                proxy.stop();
            }
        }
    }

    @Test
    void builderAndYamlProduceTheSameConfig() {
        ProxyServer built = ProxyServer.builder().listen("127.0.0.1:0").route("/api", "http://127.0.0.1:8000")
                .workers(2).build();
        ProxyConfig loaded = ProxyConfig.parse(
                "listen: 127.0.0.1:0\nworkers: 2\nroutes:\n  - path: /api\n    upstream: http://127.0.0.1:8000\n",
                "test.yaml");

        assertThat(built.config()).isEqualTo(loaded);
    }

    @Test
    void startTwiceIsRefusedAndABusyPortIsReportedByAddress() {
        try (TestBackend api = TestBackend.echo()) {
            ProxyServer first = new ProxyServer("127.0.0.1", 0, Map.of("/", api.url())).start();
            try {
                assertThatThrownBy(first::start).isInstanceOf(IllegalStateException.class);
                ProxyServer second = new ProxyServer("127.0.0.1", first.port(), Map.of("/", api.url()));
                assertThatThrownBy(second::start).isInstanceOf(UncheckedIOException.class)
                        .hasMessageContaining("cannot listen on 127.0.0.1:" + first.port());
            } finally {
                first.stop();
            }
        }
    }

    @Test
    void stopLetsAnInFlightExchangeFinishAndThenRefusesConnections() throws Exception {
        try (TestBackend slow = TestBackend.start((req, ctx) -> ctx.executor().schedule(
                () -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "late")), 500, TimeUnit.MILLISECONDS))) {
            ProxyServer proxy = new ProxyServer("127.0.0.1", 0, Map.of("/", slow.url())).start();
            int port = proxy.port();
            try (RawClient c = new RawClient(port)) {
                c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(5)).until(() -> slow.pending() == 1);

                CompletableFuture<Void> stopping = CompletableFuture.runAsync(proxy::stop);
                RawClient.Response r = c.read();
                stopping.get(10, TimeUnit.SECONDS);

                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("late");
                assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
                assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
            }
        }
    }
}
