package dev.portico.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.grpc.GrpcH1Backend.Ok;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.AuthFixtures;
import dev.portico.testing.PorticoExtension;
import io.grpc.Status;
import io.grpc.testing.protobuf.SimpleResponse;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Portico's own answers to gRPC calls, as grpc-java's client reads them over an h2c listener: each refusal is a
 * trailers-only answer with the grpc-status gRPC's HTTP table gives, while the access log keeps the HTTP status.
 */
@Timeout(60)
class GrpcErrorAnswersTest {
    private static final String METHOD = "/grpc.testing.SimpleService/UnaryRpc";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private int start(Consumer<ProxyConfig.Builder> more) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1);
        more.accept(b);
        portico.start(b.build());
        return portico.port();
    }

    private static GrpcH1Backend okBackend() throws InterruptedException {
        byte[] reply = SimpleResponse.newBuilder().setResponseMessage("pong").build().toByteArray();
        return new GrpcH1Backend(r -> new Ok(new byte[][] {reply}));
    }

    @Test
    void noRouteIsUnimplementedAndTheAccessLogKeeps404() throws Exception {
        try (GrpcH1Backend backend = okBackend(); AccessLogCapture log = new AccessLogCapture()) {
            int port = start(b -> b.route("/elsewhere", backend.url()));
            try (GrpcClients client = new GrpcClients(port)) {
                Status s = client.failingUnary(10_000);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                assertThat(s.getDescription()).contains("404 Not Found");
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> log.find(METHOD) != null);
            assertThat(log.find(METHOD)).contains(" 404 ");
        }
    }

    @Test
    void aRouteThatAnswersPassesTheBackendsMessageAndTrailers() throws Exception {
        try (GrpcH1Backend backend = okBackend()) {
            int port = start(b -> b.route("/", backend.url()));
            try (GrpcClients client = new GrpcClients(port)) {
                assertThat(client.unary("ping").getResponseMessage()).isEqualTo("pong");
            }
            assertThat(backend.take().headers().get("content-type")).isEqualTo("application/grpc");
        }
    }

    @Test
    void rateLimit429IsUnavailable() throws Exception {
        try (GrpcH1Backend backend = okBackend()) {
            int port = start(b -> b.route("/", r -> r.upstream(backend.url())
                    .policies(RateLimitPolicyConfig.builder("1/m").burst(1).build())));
            try (GrpcClients client = new GrpcClients(port)) {
                assertThat(client.unary("first").getResponseMessage()).isEqualTo("pong");
                Status s = client.failingUnary(10_000);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(s.getDescription()).isEqualTo("429 Too Many Requests");
            }
        }
    }

    @Test
    void basicAuth401IsUnauthenticated() throws Exception {
        try (GrpcH1Backend backend = okBackend()) {
            int port = start(b -> b.route("/", r -> r.upstream(backend.url()).policies(BasicAuthPolicyConfig
                    .builder().user("ann", AuthFixtures.bcrypt("secret", 4)).build())));
            try (GrpcClients client = new GrpcClients(port)) {
                Status s = client.failingUnary(10_000);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(s.getDescription()).startsWith("401 Unauthorized");
                assertThat(client.unary("ping", "authorization", AuthFixtures.basic("ann", "secret"))
                        .getResponseMessage()).isEqualTo("pong");
            }
        }
    }

    @Test
    void ipFilter403IsPermissionDenied() throws Exception {
        try (GrpcH1Backend backend = okBackend()) {
            int port = start(b -> b.route("/", r -> r.upstream(backend.url())
                    .policies(IpFilterPolicyConfig.deny("127.0.0.0/8"))));
            try (GrpcClients client = new GrpcClients(port)) {
                assertThat(client.failingUnary(10_000).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            }
            assertThat(backend.received).isEmpty();
        }
    }

    @Test
    void backendDownIsUnavailableAndTheAccessLogKeeps502() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort(); // nothing listens there once closed: the connect is refused
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        try (AccessLogCapture log = new AccessLogCapture()) {
            int port = start(b -> b.route("/", "http://127.0.0.1:" + closed));
            try (GrpcClients client = new GrpcClients(port)) {
                Status s = client.failingUnary(10_000);
                assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(s.getDescription()).contains("502");
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> log.find(METHOD) != null);
            assertThat(log.find(METHOD)).contains(" 502 ");
        }
    }
}
