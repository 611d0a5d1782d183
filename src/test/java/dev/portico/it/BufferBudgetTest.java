package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.StreamBackend;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** HTTP/1.1 clients that ask for large responses and never read count against {@code limits.max_buffered_bytes}. */
@Timeout(60)
class BufferBudgetTest {
    private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final StreamBackend backend = new StreamBackend();
    private final List<Socket> readers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        leave();
        backend.close();
    }

    private void leave() throws Exception {
        for (Socket s : readers) {
            s.setSoLinger(true, 0);
            s.close();
        }
        readers.clear();
    }

    private int status(String path) throws Exception {
        return HTTP1.send(HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void overTheBudgetNewRequestsGet503UntilTheNonReadingClientsLeave() throws Exception {
        portico.start(b -> b.limits(new LimitsConfig(8192, 65536, 0, 100, 10_000, 1000).withMaxBufferedBytes(64 * 1024))
                .route("/", backend.url()));
        for (int i = 0; i < 5; i++) {
            Socket s = new Socket();
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", portico.port()));
            readers.add(s);
            OutputStream out = s.getOutputStream();
            out.write("GET /stream?bytes=50000000 HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status("/stream?bytes=10") == 503);
        leave();

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> status("/stream?bytes=10") == 200);
    }
}
