package dev.portico.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.grpc.GrpcH1Backend.Ok;
import dev.portico.grpc.GrpcH1Backend.Silence;
import dev.portico.grpc.GrpcH1Backend.TrailersOnly;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.GrpcBackend;
import dev.portico.testing.PorticoExtension;
import io.grpc.Status;
import io.grpc.testing.protobuf.SimpleResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code grpc-timeout} caps how long Portico waits for the backend; {@code retry_on: [grpc_unavailable]} retries. */
@Timeout(60)
class GrpcTimeoutAndRetryTest {
    private static final byte[] PONG = SimpleResponse.newBuilder().setResponseMessage("pong").build().toByteArray();

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private int start(Consumer<ProxyConfig.Builder> more) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .timeouts(t -> t.response(Duration.ofSeconds(30)));
        more.accept(b);
        portico.start(b.build());
        return portico.port();
    }

    /** @return the nanoseconds a {@code grpc-timeout} value stands for */
    private static long nanos(String grpcTimeout) {
        long n = Long.parseLong(grpcTimeout.substring(0, grpcTimeout.length() - 1));
        return switch (grpcTimeout.charAt(grpcTimeout.length() - 1)) {
            case 'n' -> n;
            case 'u' -> TimeUnit.MICROSECONDS.toNanos(n);
            case 'm' -> TimeUnit.MILLISECONDS.toNanos(n);
            case 'S' -> TimeUnit.SECONDS.toNanos(n);
            default -> throw new AssertionError("unexpected unit in " + grpcTimeout);
        };
    }

    @Test
    void grpcTimeoutCapsTheResponseTimeoutAndGoesUpstreamAsWhatIsLeft() throws Exception {
        try (GrpcH1Backend backend = new GrpcH1Backend(r -> new Silence())) {
            int port = start(b -> b.route("/", backend.url()));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            long began = System.nanoTime();
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/grpc.testing.SimpleService/UnaryRpc"))
                    .header("content-type", "application/grpc").header("grpc-timeout", "400m")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(GrpcH1Backend.frame(new byte[0]))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("grpc-status")).hasValue("4"); // the deadline's 504: DEADLINE_EXCEEDED
            assertThat(r.headers().firstValue("grpc-message").orElseThrow()).startsWith("504");
            assertThat(r.body()).isEmpty();
            assertThat(tookMillis).isBetween(350L, 10_000L); // timeouts.response is 30s
            long forwarded = nanos(backend.take().headers().get("grpc-timeout"));
            assertThat(forwarded).isPositive().isLessThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(400));
        }
    }

    @Test
    void aGrpcClientsDeadlineEndsTheCallAndTheBackendSeesTheShorterTimeout() throws Exception {
        try (GrpcH1Backend backend = new GrpcH1Backend(r -> new Silence())) {
            int port = start(b -> b.route("/", backend.url()));
            try (GrpcClients client = new GrpcClients(port)) {
                long began = System.nanoTime();
                Status s = client.failingUnary(500);
                assertThat(s.getCode()).isIn(Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE);
                assertThat(System.nanoTime() - began).isLessThan(TimeUnit.SECONDS.toNanos(10));
            }
            long forwarded = nanos(backend.take().headers().get("grpc-timeout"));
            assertThat(forwarded).isPositive().isLessThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
        }
    }

    @Test
    void aTrailersOnlyUnavailableIsRetriedWhenRetryOnSaysGrpcUnavailable() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        try (GrpcH1Backend backend = new GrpcH1Backend(r -> tries.incrementAndGet() == 1
                ? new TrailersOnly(14, "busy") : new Ok(new byte[][] {PONG}))) {
            int port = start(b -> b.route("/", r -> r.upstream(u -> u.servers(backend.url())
                    .retry(x -> x.attempts(1).retryOn("grpc_unavailable").idempotentOnly(false)))));
            try (GrpcClients client = new GrpcClients(port)) {
                assertThat(client.unary("ping").getResponseMessage()).isEqualTo("pong");
            }
            assertThat(tries).hasValue(2);
        }
    }

    @Test
    void aGrpcJavaServersTrailersOnlyUnavailableOverH2cIsRetried() throws Exception {
        try (GrpcBackend backend = GrpcBackend.plaintext()) {
            int port = start(b -> b.route("/", r -> r.upstream(u -> u.servers("http://127.0.0.1:" + backend.port())
                    .protocol(UpstreamConfig.Protocol.H2C)
                    .retry(x -> x.attempts(1).retryOn("grpc_unavailable").idempotentOnly(false)))));
            try (GrpcClients client = new GrpcClients(port)) {
                Status s = client.failing("fail:14:busy", 10_000);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(s.getDescription()).isEqualTo("busy");
                assertThat(client.unary("again").getResponseMessage()).isEqualTo("hello again");
            }
            assertThat(backend.calls()).as("the failed call was tried twice, then one more call").isEqualTo(3);
        }
    }

    @Test
    void withoutGrpcUnavailableInRetryOnTheClientGetsTheBackendsStatus() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        try (GrpcH1Backend backend = new GrpcH1Backend(r -> tries.incrementAndGet() == 1
                ? new TrailersOnly(14, "busy") : new Ok(new byte[][] {PONG}))) {
            int port = start(b -> b.route("/", r -> r.upstream(u -> u.servers(backend.url())
                    .retry(x -> x.attempts(1).retryOn("grpc_resource_exhausted").idempotentOnly(false)))));
            try (GrpcClients client = new GrpcClients(port)) {
                Status s = client.failingUnary(10_000);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(s.getDescription()).isEqualTo("busy");
            }
            assertThat(tries).hasValue(1);
        }
    }
}
