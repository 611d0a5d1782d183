package dev.portico.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.GrpcBackend;
import dev.portico.testing.H2Backend;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 over TLS to backends: {@code h2} by ALPN, {@code auto} choosing h2 or HTTP/1.1, and gRPC end to end. */
@Timeout(60)
class H2TlsUpstreamTest {
    private static Issued ca;
    private static Issued server;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    private final HttpClient http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca("Test CA");
        server = TestCertificates.server(ca, "localhost");
    }

    private SslContext backendTls(String alpn) throws Exception {
        Pem pem = server.write(dir, "backend", TestCertificates.KeyFormat.PKCS8);
        return SslContextBuilder.forServer(pem.certificate().toFile(), pem.key().toFile())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn)).build();
    }

    private void start(int backendPort, UpstreamConfig.Protocol protocol, ListenerConfig listener) throws Exception {
        Path caFile = ca.write(dir, "ca").certificate();
        UpstreamConfig up = UpstreamConfig.builder("secure").servers("https://127.0.0.1:" + backendPort)
                .protocol(protocol).tls(t -> t.ca(caFile).serverName("localhost")).build();
        portico.start(ProxyConfig.builder().listen(listener).workers(1).route("/", r -> r.upstream(up)).build());
    }

    private void start(int backendPort, UpstreamConfig.Protocol protocol) throws Exception {
        start(backendPort, protocol, new ListenerConfig(new ListenAddress("127.0.0.1", 0), null, false));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http1.send(HttpRequest.newBuilder(portico.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void h2SpeaksHttp2OverTlsChosenByAlpn() throws Exception {
        try (H2Backend backend = H2Backend.tls(backendTls("h2"), false)) {
            start(backend.port(), UpstreamConfig.Protocol.H2);
            assertThat(get("/x").body()).isEqualTo("GET /x 0\n");
            assertThat(get("/y").body()).isEqualTo("GET /y 0\n");
            assertThat(backend.take().protocol()).isEqualTo("h2");
            assertThat(backend.accepted()).isEqualTo(1);
        }
    }

    @Test
    void h2FailsWithA502WhenTheBackendOffersOnlyHttp11() throws Exception {
        try (H2Backend backend = H2Backend.tls(backendTls("http/1.1"), true)) {
            start(backend.port(), UpstreamConfig.Protocol.H2);
            assertThat(get("/x").statusCode()).isEqualTo(502);
        }
    }

    @Test
    void autoPicksH2WhenTheBackendOffersIt() throws Exception {
        try (H2Backend backend = H2Backend.tls(backendTls("h2"), false)) {
            start(backend.port(), UpstreamConfig.Protocol.AUTO);
            assertThat(get("/x").body()).isEqualTo("GET /x 0\n");
            assertThat(backend.take().protocol()).isEqualTo("h2");
        }
    }

    @Test
    void autoFallsBackToPooledHttp11WhenTheBackendOffersOnlyThat() throws Exception {
        try (H2Backend backend = H2Backend.tls(backendTls("http/1.1"), true)) {
            start(backend.port(), UpstreamConfig.Protocol.AUTO);
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                bodies.add(get("/x" + i).body());
            }
            assertThat(bodies).containsExactly("GET /x0 0\n", "GET /x1 0\n", "GET /x2 0\n");
            assertThat(backend.take().protocol()).isEqualTo("http/1.1");
            assertThat(backend.accepted()).isEqualTo(1); // the first connection went on as a pooled HTTP/1.1 one
        }
    }

    @Test
    void healthChecksOfAnAutoUpstreamSpeakWhatTheBackendChose() throws Exception {
        for (boolean http1Only : new boolean[] {false, true}) {
            try (H2Backend backend = H2Backend.tls(backendTls(http1Only ? "http/1.1" : "h2"), http1Only)) {
                Path caFile = ca.write(dir, "ca").certificate();
                UpstreamConfig up = UpstreamConfig.builder("secure").servers("https://127.0.0.1:" + backend.port())
                        .protocol(UpstreamConfig.Protocol.AUTO).tls(t -> t.ca(caFile).serverName("localhost"))
                        .healthCheck("/healthz", h -> h.interval(java.time.Duration.ofMillis(200))).build();
                portico.start(ProxyConfig.builder().listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                        null, false)).workers(1).route("/", r -> r.upstream(up)).build());
                H2Backend.Received check = backend.take();
                assertThat(check.uri()).isEqualTo("/healthz");
                assertThat(check.protocol()).isEqualTo(http1Only ? "http/1.1" : "h2");
            }
        }
    }

    @Test
    void grpcFromATlsH2ListenerToAnH2Upstream() throws Exception {
        Pem pem = server.write(dir, "grpc", TestCertificates.KeyFormat.PKCS8);
        try (GrpcBackend backend = GrpcBackend.tls(pem.certificate(), pem.key())) {
            ListenerTlsConfig tls = new ListenerTlsConfig(List.of(new CertificateConfig(pem.certificate(),
                    pem.key())), ListenerTlsConfig.DEFAULT_PROTOCOLS, ListenerTlsConfig.DEFAULT_ALPN,
                    ListenerTlsConfig.ClientAuth.NONE, null);
            start(backend.port(), UpstreamConfig.Protocol.H2,
                    new ListenerConfig(new ListenAddress("127.0.0.1", 0), tls, false));
            ManagedChannel channel = GrpcBackend.tlsChannel(portico.port(), "localhost",
                    ca.write(dir, "ca").certificate());
            try {
                AtomicReference<Metadata> trailers = new AtomicReference<>();
                var stub = SimpleServiceGrpc.newBlockingStub(channel).withInterceptors(
                        MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers));
                assertThat(stub.unaryRpc(SimpleRequest.newBuilder().setRequestMessage("tls").build())
                        .getResponseMessage()).isEqualTo("hello tls");
                assertThat(trailers.get().get(Metadata.Key.of(GrpcBackend.TRAILER,
                        Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("present");
                List<SimpleResponse> got = new ArrayList<>();
                stub.serverStreamingRpc(SimpleRequest.newBuilder().setRequestMessage("20:1000").build())
                        .forEachRemaining(got::add);
                assertThat(got).hasSize(20);
            } finally {
                GrpcBackend.shutdown(channel);
            }
        }
    }
}
