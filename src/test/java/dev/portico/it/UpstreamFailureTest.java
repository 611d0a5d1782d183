package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Each way a backend can fail maps to the status of DESIGN.md section 4. */
@Timeout(30)
class UpstreamFailureTest {
    private static final TimeoutsConfig FAST = new TimeoutsConfig(Duration.ofMillis(300), Duration.ofMillis(400),
            Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(1));

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void respondsWith404WhenNoRouteMatchesAndKeepsTheConnection() throws Exception {
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.route("/api", api.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /other HTTP/1.1\r\nHost: a\r\n\r\n");
                RawClient.Response miss = c.read();
                c.send("GET /api HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(miss.status()).isEqualTo(404);
                assertThat(miss.body()).contains("no route");
                assertThat(c.read().status()).isEqualTo(200);
            }
        }
    }

    @Test
    void respondsWith502WhenTheBackendRefusesTheConnection() throws Exception {
        // Port 1 (tcpmux) has no listener on a loopback test machine: the connect is refused.
        portico.start(b -> b.route("/", "http://127.0.0.1:1"));

        assertThat(portico.get("/x").statusCode()).isEqualTo(502);
    }

    @Test
    void respondsWith504WhenTheConnectTimesOut() throws Exception {
        // A listener that never accepts, with its accept queue full: further SYNs are dropped.
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort()), 200);
                } catch (IOException full) {
                    s.close();
                    break;
                }
                fillers.add(s);
            }
            portico.start(b -> b.timeouts(FAST).route("/", "http://127.0.0.1:" + silent.getLocalPort()));

            long start = System.nanoTime();
            int status = portico.get("/x").statusCode();

            assertThat(status).isEqualTo(504);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            for (Socket s : fillers) {
                s.close();
            }
        }
    }

    @Test
    void respondsWith504WhenTheBackendNeverAnswers() throws Exception {
        try (TestBackend silent = TestBackend.start((req, ctx) -> { })) {
            portico.start(b -> b.timeouts(FAST).route("/", silent.url()));

            assertThat(portico.get("/slow").statusCode()).isEqualTo(504);
        }
    }

    @Test
    void respondsWith502WhenTheBackendResetsBeforeAnswering() throws Exception {
        try (RawBackend reset = RawBackend.start(conn -> {
            conn.readHead();
            conn.reset();
        })) {
            portico.start(b -> b.route("/", reset.url()));

            assertThat(portico.get("/x").statusCode()).isEqualTo(502);
        }
    }

    @Test
    void respondsWith502ToAMalformedResponse() throws Exception {
        try (RawBackend bad = RawBackend.start(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        })) {
            portico.start(b -> b.route("/", bad.url()));

            assertThat(portico.get("/x").statusCode()).isEqualTo(502);
        }
    }

    @Test
    void respondsWith502ToAnInvalidStatusLineOrAnOversizedHeadAndNeverReusesTheConnection() throws Exception {
        try (RawBackend bad = RawBackend.start(conn -> {
            conn.readHead();
            if (conn.index() == 0) {
                conn.write("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n");
            } else if (conn.index() == 1) {
                conn.write("HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(70 * 1024) + "\r\nContent-Length: 0\r\n\r\n");
            } else {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            conn.readHead();
        })) {
            portico.start(b -> b.route("/", bad.url()));

            assertThat(portico.get("/1").statusCode()).isEqualTo(502);
            assertThat(portico.get("/2").statusCode()).isEqualTo(502);
            assertThat(portico.get("/3").body()).isEqualTo("ok");
            assertThat(bad.accepted()).as("each failed connection was dropped").isEqualTo(3);
        }
    }

    @Test
    void aSecondResponseSmuggledAfterTheFirstNeverReachesAnotherClient() throws Exception {
        try (RawBackend smuggler = RawBackend.start(conn -> {
            conn.readHead();
            if (conn.index() == 0) {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
            } else {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhonest");
            }
            conn.readHead();
        })) {
            portico.start(b -> b.route("/", smuggler.url()));

            assertThat(portico.get("/a").body()).isEqualTo("first");
            assertThat(portico.get("/b").body()).isEqualTo("honest");
        }
    }

    @Test
    void aBodySentWithAHeadResponseNeverReachesTheNextClient() throws Exception {
        try (RawBackend backend = RawBackend.start(conn -> {
            String head = conn.readHead();
            if (head.startsWith("HEAD")) {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
            } else {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhonest");
            }
            conn.readHead();
        })) {
            portico.start(b -> b.route("/", backend.url()));
            try (RawClient c = portico.raw()) {
                c.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(c.read(true).header("Content-Length")).isEqualTo("5");
            }

            assertThat(portico.get("/next").body()).isEqualTo("honest");
        }
    }

    @Test
    void aResponseQueuedBehindAnotherNeverReachesAPipelinedOrLaterRequest() throws Exception {
        try (RawBackend backend = RawBackend.start(conn -> {
            String head;
            boolean first = true;
            while ((head = conn.readHead()) != null) {
                String path = head.split(" ")[1];
                String extra = first && path.equals("/1") ? "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nFAKE" : "";
                first = false;
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + path.length() + "\r\n\r\n" + path + extra);
            }
        })) {
            portico.start(b -> b.route("/", backend.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /22 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(c.read().body()).isEqualTo("/1");
                assertThat(c.read().body()).isEqualTo("/22");
            }

            assertThat(portico.get("/333").body()).isEqualTo("/333");
        }
    }

    @Test
    void closesTheClientConnectionWhenTheBackendFailsMidBody() throws Exception {
        try (RawBackend cut = RawBackend.start(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
            conn.close();
        })) {
            portico.start(b -> b.route("/", cut.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                RawClient.Response r = c.read();

                // The status cannot change any more; the truncation shows as a short body, then a close.
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("Content-Length")).isEqualTo("100");
                assertThat(r.body()).isEqualTo("0123456789");
                assertThat(c.closedByPeer()).isTrue();
            }
        }
    }
}
