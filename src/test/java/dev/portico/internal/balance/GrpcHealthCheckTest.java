package dev.portico.internal.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.HealthCheckConfig;
import dev.portico.config.PassiveConfig;
import dev.portico.config.RetryConfig;
import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.config.UpstreamTlsConfig;
import dev.portico.internal.tls.UpstreamTlsClient;
import dev.portico.testing.TestCertificates;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code health_check: {grpc: true, service: NAME}} against grpc-java's own health service (HealthStatusManager). */
@Timeout(30)
class GrpcHealthCheckTest {
    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private HealthChecker checker;
    private Server server;

    @AfterEach
    void stop() throws InterruptedException {
        if (checker != null) {
            checker.close();
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static ConditionFactory await() {
        return Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10));
    }

    private Endpoint startChecking(String service, int port) {
        return startChecking(service, "http://127.0.0.1:" + port, null);
    }

    private Endpoint startChecking(String service, String url, UpstreamTlsClient tls) {
        HealthCheckConfig hc = HealthCheckConfig.grpc(service).interval(Duration.ofMillis(100))
                .timeout(Duration.ofMillis(1000)).healthyThreshold(1).unhealthyThreshold(1).build();
        ServerConfig s = new ServerConfig(UpstreamUrl.parse(url), 1);
        int port = s.url().port();
        UpstreamConfig c = new UpstreamConfig("grpc", List.of(s), UpstreamConfig.Balance.ROUND_ROBIN, null, hc,
                PassiveConfig.DEFAULTS, RetryConfig.DEFAULTS, 0, 0, Duration.ZERO);
        UpstreamGroup g = tls == null ? new UpstreamGroup(c, "grpc") : new UpstreamGroup(c, "grpc", Map.of(s, tls));
        g.setAddresses(s, List.of(new InetSocketAddress("127.0.0.1", port)));
        checker = new HealthChecker(g, loops.next(), NioSocketChannel.class);
        checker.start();
        return g.endpoints().get(0);
    }

    @Test
    void anEndpointFollowsItsServicesServingStatus() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("orders.v1.Orders", ServingStatus.SERVING);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService()).build().start();
        Endpoint e = startChecking("orders.v1.Orders", server.getPort());
        await().during(Duration.ofMillis(400)).until(e::healthy);

        health.setStatus("orders.v1.Orders", ServingStatus.NOT_SERVING);
        await().until(() -> !e.healthy());
        assertThat(e.lastFailure().reason()).contains("not SERVING");

        health.setStatus("orders.v1.Orders", ServingStatus.SERVING);
        await().until(e::healthy);
    }

    @Test
    void anUnknownServiceOrAServerThatIsGoneIsUnhealthy() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService()).build().start();
        Endpoint e = startChecking("no.such.Service", server.getPort());
        await().until(() -> !e.healthy());
        assertThat(e.lastFailure().reason()).contains("grpc-status 5"); // NOT_FOUND

        health.setStatus("no.such.Service", ServingStatus.SERVING);
        await().until(e::healthy);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        await().until(() -> !e.healthy());
    }

    @Test
    void overTlsWithAlpnH2AsAnH2UpstreamOffersIt(@TempDir Path dir) throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("test-ca");
        TestCertificates.Pem serverPem = TestCertificates.server(ca, "localhost").write(dir, "server");
        TestCertificates.Pem caPem = ca.write(dir, "ca");
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.NOT_SERVING);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.forServer(serverPem.certificate().toFile(), serverPem.key().toFile())
                        .build())
                .addService(health.getHealthService()).build().start();
        UpstreamTlsConfig tlsConfig = UpstreamTlsConfig.builder().ca(caPem.certificate()).serverName("localhost")
                .build();
        UpstreamTlsClient tls = new UpstreamTlsClient(tlsConfig, "127.0.0.1", server.getPort(), 1000,
                "upstreams.grpc.tls", List.of("h2"));
        Endpoint e = startChecking("", "https://127.0.0.1:" + server.getPort(), tls);
        await().until(() -> !e.healthy());
        assertThat(e.lastFailure().reason()).contains("not SERVING"); // the call itself went through TLS and h2
        health.setStatus("", ServingStatus.SERVING);
        await().until(e::healthy);
    }

    @Test
    void theRequestAndResponseMessagesAreEncodedAsTheProtocolSays() {
        ByteBuf req = GrpcHealthCall.request("svc");
        assertThat(ByteBufUtil.hexDump(req)).isEqualTo("00" + "00000005" + "0a03" + ByteBufUtil.hexDump("svc".getBytes()));
        req.release();
        ByteBuf empty = GrpcHealthCall.request("");
        assertThat(ByteBufUtil.hexDump(empty)).isEqualTo("0000000000");
        empty.release();
        assertThat(GrpcHealthCall.status(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 2, 0x08, 0x01}))).isEqualTo(1);
        assertThat(GrpcHealthCall.status(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 2, 0x08, 0x02}))).isEqualTo(2);
        assertThat(GrpcHealthCall.status(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 0}))).isZero();
        assertThat(GrpcHealthCall.status(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 3, 0x08}))).isEqualTo(-1);
    }
}
