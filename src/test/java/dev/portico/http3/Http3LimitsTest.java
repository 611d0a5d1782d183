package dev.portico.http3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.testing.H3Client;
import dev.portico.testing.HoldingBackend;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The {@code http2} limits and the timeouts as HTTP/3 applies them: streams, resets, idle, drain. */
@Timeout(60)
class Http3LimitsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    private H3Client client() throws Exception {
        return new H3Client(portico.port(), Http3Fixture.ca().certificate(), "localhost");
    }

    @Test
    void streamsBeyondMaxConcurrentStreamsCannotBeOpenedUntilOthersEnd() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url())
                    .http2(h -> h.maxConcurrentStreams(4)));
            try (H3Client h3 = client()) {
                List<CompletableFuture<H3Client.Response>> all = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    all.add(h3.get("/hold"));
                }

                // QUIC stream credit (initial_max_streams_bidi = 4): the client cannot open a fifth stream.
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == 4);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> all.stream().filter(CompletableFuture::isCompletedExceptionally).count() == 6);
                assertThat(all.stream().filter(f -> f.isCompletedExceptionally())
                        .map(f -> f.handle((r, e) -> e.toString()).join()))
                        .allMatch(e -> e.contains("STREAM_LIMIT"));
                assertThat(backend.held()).isEqualTo(4);

                backend.release();
                for (CompletableFuture<H3Client.Response> f : all) {
                    if (!f.isCompletedExceptionally()) {
                        assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
                    }
                }
                // The ended streams give their credit back (MAX_STREAMS). Netty's client spent a stream id on each
                // refused attempt, so the credit is read rather than used here.
                await().atMost(Duration.ofSeconds(10)).until(() -> h3.connection()
                        .peerAllowedStreams(io.netty.handler.codec.quic.QuicStreamType.BIDIRECTIONAL) > 0);
            }
        }
    }

    @Test
    void manyMoreSequentialRequestsThanTheStreamLimitShareOneConnection() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()).http2(h -> h.maxConcurrentStreams(2)));
            try (H3Client h3 = client()) {
                for (int i = 0; i < 20; i++) {
                    assertThat(h3.get("/fast").get(10, TimeUnit.SECONDS).status()).as("request %d", i).isEqualTo(200);
                }
            }
        }
    }

    @Test
    void aRequestHeadLargerThanMaxHeaderListSizeNeverReachesTheBackend() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url())
                    .http2(h -> h.maxHeaderListSize(16 * 1024)));
            try (H3Client h3 = client()) {
                CompletableFuture<H3Client.Response> big = h3.send("GET", "/fast",
                        Map.of("x-big", "a".repeat(32 * 1024)), null);

                // Netty's HTTP/3 codec answers an oversized head with a connection error (H3_EXCESSIVE_LOAD).
                assertThat(big).failsWithin(Duration.ofSeconds(10));
                assertThat(h3.connection().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(backend.connections()).isZero();
            }
        }
    }

    @Test
    void maxConnectionsCountsQuicConnections() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url()).limits(l -> l.maxConnections(1)));
            try (H3Client first = client()) {
                assertThat(first.get("/fast").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);

                org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                    try (H3Client second = client()) {
                        second.get("/fast").get(10, TimeUnit.SECONDS);
                    }
                }).as("a second QUIC connection is closed at once").isNotNull();
                assertThat(first.get("/fast").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTimeoutsIdle() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url())
                    .timeouts(t -> t.idle(Duration.ofSeconds(1))));
            try (H3Client h3 = client()) {
                assertThat(h3.get("/fast").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
                long start = System.nanoTime();

                assertThat(h3.connection().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(500));
            }
        }
    }

    @Test
    void cancellingStreamsInALoopKeepsExchangesWithinTheLimitAndClosesTheConnection() throws Exception {
        // Rapid Reset: a cancelled stream gives its QUIC credit back at once while its exchange goes on.
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url())
                    .http2(h -> h.maxConcurrentStreams(4).maxResets(10)));
            try (H3Client h3 = client()) {
                for (int i = 0; i < 50 && h3.connection().isActive(); i++) {
                    CompletableFuture<QuicStreamChannel> stream = new CompletableFuture<>();
                    h3.send("GET", "/hold", Map.of(), -1, null, false, stream);
                    QuicStreamChannel s;
                    try {
                        s = stream.get(5, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        break; // the connection is closing
                    }
                    await().atMost(Duration.ofSeconds(5)).until(() -> s.isOutputShutdown() || !s.isActive());
                    s.shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code());
                    assertThat(backend.held()).isLessThanOrEqualTo(4);
                }

                assertThat(h3.connection().closeFuture().await(10, TimeUnit.SECONDS))
                        .as("the connection is closed for too many refused streams").isTrue();
                assertThat(backend.held()).isLessThanOrEqualTo(4);
            }
        }
    }

    @Test
    void aDrainSendsGoawayAndLetsTheStreamInFlightFinish() throws Exception {
        try (HoldingBackend backend = new HoldingBackend()) {
            Http3Fixture.start(portico, dir, b -> b.route("/", backend.url())
                    .timeouts(t -> t.drain(Duration.ofSeconds(20))));
            try (H3Client h3 = client()) {
                CompletableFuture<H3Client.Response> inFlight = h3.get("/hold");
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.held() == 1);

                Thread stopper = new Thread(portico.proxy()::stop);
                stopper.start();
                Http3ClientConnectionHandler h = h3.connection().pipeline().get(Http3ClientConnectionHandler.class);
                await().atMost(Duration.ofSeconds(10)).until(h::isGoAwayReceived);
                assertThat(inFlight).isNotDone();

                backend.release();
                assertThat(inFlight.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
                assertThat(h3.connection().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
                stopper.join(20_000);
                assertThat(stopper.isAlive()).isFalse();
            }
        }
    }
}
