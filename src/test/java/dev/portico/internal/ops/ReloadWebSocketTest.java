package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.WebSocketBackend;
import dev.portico.testing.WebSocketTestClient;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An open WebSocket tunnel outlives reloads, including one that removes its route. */
@Timeout(60)
class ReloadWebSocketTest {
    @TempDir
    Path dir;

    @Test
    void aWebSocketStaysOpenAcrossReloads() throws Exception {
        try (WebSocketBackend ws = new WebSocketBackend()) {
            Path file = dir.resolve("portico.yaml");
            Files.writeString(file, config(ws.url(), "/ws"));
            try (ProxyServer proxy = new ProxyServer(ProxyConfig.load(file), file).start();
                 WebSocketTestClient client = WebSocketTestClient.connect(proxy.port(), "/ws")) {
                client.send(new TextWebSocketFrame("before"));
                assertThat(client.next()).isEqualTo("before");

                for (int i = 0; i < 5; i++) {
                    // Alternately drop the route the tunnel came through and bring it back.
                    Files.writeString(file, config(ws.url(), i % 2 == 0 ? "/other" : "/ws"));
                    ReloadTest.ReloadResultAssert.applied(proxy.reload().get(10, TimeUnit.SECONDS));
                    client.send(new TextWebSocketFrame("after reload " + i));
                    assertThat(client.next()).isEqualTo("after reload " + i);
                }
                assertThat(client.channel().isActive()).isTrue();
            }
        }
    }

    private static String config(String backend, String path) {
        return "listen: 127.0.0.1:0\nworkers: 1\nroutes:\n  " + path + ": \"" + backend + "\"\n";
    }
}
