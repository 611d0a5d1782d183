package dev.portico.internal.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.config.ReloadResult;
import dev.portico.internal.server.ProxyRuntime;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The idle pool forgets the endpoints a reload (or a DNS change) replaced, once their connections are gone. */
@Timeout(30)
class IdlePoolEntriesTest {
    @TempDir
    Path dir;

    private static String config(TestBackend backend) {
        return """
                listen: 127.0.0.1:0
                workers: 1
                timeouts: {connect: 2s, response: 5s, idle: 60s, drain: 1s}
                upstreams:
                  app: {servers: [%s]}
                routes: {/: app}
                """.formatted(backend.url());
    }

    @Test
    void anEndpointReplacedByAReloadLeavesThePoolWhenItsConnectionsClose() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Set<Channel> oldConnections = ConcurrentHashMap.newKeySet();
        try (TestBackend old = TestBackend.start((req, ctx) -> {
                 oldConnections.add(ctx.channel());
                 ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "old"));
             });
             TestBackend fresh = TestBackend.echo()) {
            Files.writeString(file, config(old));
            try (ProxyServer proxy = new ProxyServer(ProxyConfig.load(file), file).start()) {
                assertThat(get(proxy, "/before")).isEqualTo("old");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> idleEndpoints(proxy) == 1);

                Files.writeString(file, config(fresh));
                ReloadResult reload = proxy.reload().get(10, TimeUnit.SECONDS);
                assertThat(reload.problems()).isEmpty();
                assertThat(get(proxy, "/after")).isEqualTo("GET /after\n");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> idleEndpoints(proxy) == 2);
                oldConnections.forEach(Channel::close); // the old backend goes away

                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> idleConnections(proxy) == 1);
                assertThat(idleEndpoints(proxy)).as("endpoints with an entry in the idle pool").isEqualTo(1);
            }
        }
    }

    private static String get(ProxyServer proxy, String path) throws Exception {
        try (RawClient c = new RawClient(proxy.port())) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            return r.body();
        }
    }

    private static int idleConnections(ProxyServer proxy) throws Exception {
        int n = 0;
        for (UpstreamPool p : pools(proxy).values()) {
            n += p.idleConnections();
        }
        return n;
    }

    /** Counts on each pool's own loop, where its map lives. */
    private static int idleEndpoints(ProxyServer proxy) throws Exception {
        int n = 0;
        for (Map.Entry<EventExecutor, UpstreamPool> e : pools(proxy).entrySet()) {
            n += e.getKey().submit(e.getValue()::idleEndpoints).get(5, TimeUnit.SECONDS);
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static Map<EventExecutor, UpstreamPool> pools(ProxyServer proxy) throws ReflectiveOperationException {
        // Neither ProxyServer nor ProxyRuntime exposes the pools: they are the data path's, not API.
        Field runtime = ProxyServer.class.getDeclaredField("runtime");
        runtime.setAccessible(true);
        Field pools = ProxyRuntime.class.getDeclaredField("pools");
        pools.setAccessible(true);
        return (Map<EventExecutor, UpstreamPool>) pools.get(runtime.get(proxy));
    }
}
