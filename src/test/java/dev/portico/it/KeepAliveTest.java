package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.TimeoutsConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawBackend;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Client keep-alive, pipelining, and upstream connection pooling. */
@Timeout(30)
class KeepAliveTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void reusesOneUpstreamConnectionAcrossRequestsAndClients() throws Exception {
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.route("/", api.url()));

            for (int i = 0; i < 5; i++) {
                try (RawClient c = portico.raw()) {
                    c.send("GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThat(c.read().status()).isEqualTo(200);
                    c.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThat(c.read().status()).isEqualTo(200);
                }
            }

            assertThat(api.connections()).isEqualTo(1);
        }
    }

    @Test
    void closesAPooledConnectionAfterTheIdleTimeout() throws Exception {
        CountDownLatch closedByProxy = new CountDownLatch(1);
        try (RawBackend backend = RawBackend.start(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            if (conn.readHead() == null) {
                closedByProxy.countDown();
            }
        })) {
            portico.start(b -> b.timeouts(new TimeoutsConfig(Duration.ofSeconds(1),
                    Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(5),
                    Duration.ofSeconds(1))).route("/", backend.url()));

            assertThat(portico.get("/").body()).isEqualTo("ok");

            assertThat(closedByProxy.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static TimeoutsConfig clientIdle(Duration idle) {
        return new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(5), idle, Duration.ofSeconds(5),
                Duration.ofSeconds(1));
    }

    @Test
    void servesAClientConnectionUntilItIsIdleForTimeoutsIdleThenClosesIt() throws Exception {
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.timeouts(clientIdle(Duration.ofMillis(600))).route("/", api.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(c.read().body()).isEqualTo("GET /1\n");
                c.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"); // well within the idle time: still open
                assertThat(c.read().body()).isEqualTo("GET /2\n");
                long quietSince = System.nanoTime();

                assertThat(c.closedByPeer()).isTrue();
                long quietMillis = (System.nanoTime() - quietSince) / 1_000_000;
                assertThat(quietMillis).isBetween(500L, 5_000L); // the idle time, plus up to a tick of the sweep
            }
        }
    }

    @Test
    void aConnectionInUseOutlivesManyIdleTimeouts() throws Exception {
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.timeouts(clientIdle(Duration.ofMillis(400))).route("/", api.url()));
            try (RawClient c = portico.raw()) {
                long start = System.nanoTime();
                for (int i = 0; System.nanoTime() - start < 2_000_000_000L; i++) { // five idle times in all
                    c.send("GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThat(c.read().body()).isEqualTo("GET /" + i + "\n");
                    Thread.sleep(150); // the client's pace, well within the idle time, is what this test is about
                }
                assertThat(c.closedByPeer()).as("closed once quiet for the idle time").isTrue();
            }
        }
    }

    @Test
    void servesTheNextRequestsOfAClientConnectionThatWasQuiet() throws Exception {
        // Quiet for more than two ticks of the idle sweep (a quarter of timeouts.idle): the connection has given
        // back its decoder and encoder, and the ones made for the next requests pair a HEAD's answer right.
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.timeouts(clientIdle(Duration.ofSeconds(2))).route("/", api.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(c.read().body()).isEqualTo("GET /1\n");
                Thread.sleep(1_200); // the client's quiet time is what this test is about, not a wait for a result

                c.send("HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
                RawClient.Response head = c.read(true);
                assertThat(head.status()).isEqualTo(200);
                assertThat(head.body()).isEmpty();
                assertThat(c.read().body()).isEqualTo("GET /3\n");
            }
        }
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.route("/", api.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                        + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");

                assertThat(c.read().body()).isEqualTo("GET /1\n");
                assertThat(c.read().body()).isEqualTo("POST /2\nabc");
                assertThat(c.read().body()).isEqualTo("GET /3\n");
            }
        }
    }

    @Test
    void interpretsNothingAfterARejectedPipelinedRequest() throws Exception {
        try (TestBackend api = TestBackend.echo()) {
            portico.start(b -> b.route("/", api.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/1.1\r\nHost : a\r\n\r\n"
                        + "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");

                assertThat(c.read().status()).isEqualTo(200);
                RawClient.Response rejected = c.read();
                assertThat(rejected.status()).isEqualTo(400);
                assertThat(rejected.header("Connection")).isEqualToIgnoringCase("close");
                assertThat(c.closedByPeer()).isTrue();
            }
            assertThat(api.take().uri()).isEqualTo("/ok");
            assertThat(api.pending()).isZero();
        }
    }

    @Test
    void dropsAPooledConnectionTheBackendClosedBetweenRequests() throws Exception {
        try (TestBackend api = TestBackend.start((req, ctx) -> ctx.writeAndFlush(
                TestBackend.text(HttpResponseStatus.OK, "bye")).addListener(ChannelFutureListener.CLOSE))) {
            portico.start(b -> b.route("/", api.url()));

            assertThat(portico.get("/1").statusCode()).isEqualTo(200);
            assertThat(portico.get("/2").statusCode()).isEqualTo(200);
            assertThat(portico.get("/3").statusCode()).isEqualTo(200);
            assertThat(api.connections()).isEqualTo(3);
        }
    }

    @Test
    void retriesAnIdempotentRequestWhenAPooledConnectionDiesUnderIt() throws Exception {
        // The first connection answers one request keep-alive, then closes on the second without answering: the
        // keep-alive race that causes random 502s in proxies that do not retry. Later connections answer all.
        try (RawBackend racy = RawBackend.start(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
            if (conn.index() == 0) {
                conn.readHead();
                conn.close();
                return;
            }
            while (conn.readHead() != null) {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlater");
            }
        })) {
            portico.start(b -> b.route("/", racy.url()));

            assertThat(portico.get("/a").body()).isEqualTo("first");
            assertThat(portico.get("/b").body()).isEqualTo("first");
            assertThat(racy.accepted()).isEqualTo(2);
            // The connection the retry used is pooled in a clean state: its request went out whole, end included.
            try (RawClient c = portico.raw()) {
                c.send("POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("later");
            }
            assertThat(racy.accepted()).isEqualTo(2);
        }
    }

    @Test
    void doesNotRetryANonIdempotentRequestThatReachedTheBackend() throws Exception {
        try (RawBackend racy = RawBackend.start(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
            conn.readHead();
            conn.close();
        })) {
            portico.start(b -> b.route("/", racy.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
                c.send("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(502);
            }
            assertThat(racy.accepted()).isEqualTo(1);
        }
    }
}
