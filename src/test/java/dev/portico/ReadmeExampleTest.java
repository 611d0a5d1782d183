package dev.portico;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.AccessLogConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.HealthCheckConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RedirectPolicyConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
import dev.portico.config.ServerConfig;
import dev.portico.config.TimeoutsConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.policy.ApiKeyPolicy;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "Java API" example, copied here so that it compiles; it builds the configurations but starts nothing.
 * A test checks that every line of the README's example is still here.
 */
class ReadmeExampleTest {
    private static final Path SOURCE = Path.of("src/test/java/dev/portico/ReadmeExampleTest.java");
    /** The README's lines naming files that do not exist here; the test names real ones instead. */
    private static final List<String> REPLACED = List.of("Path cert = Path.of(\"example.pem\");",
            "Path key = Path.of(\"example.key\");");

    @TempDir
    Path dir;

    @Test
    void theExampleBuildsWhatItSays() throws Exception {
        Pem pem = TestCertificates.server(TestCertificates.ca("CA"), "example.test").write(dir, "example");

        ProxyServer proxy = ProxyServer.builder()
                .listen("localhost:8080")
                .route("/api", "http://localhost:8000")
                .route("/web", "http://localhost:8001")
                .build();

        ProxyServer custom = ProxyServer.builder()
                .listen("127.0.0.1:8080")
                .defaultPolicies(SecurityHeadersPolicyConfig.builder("strict").build())
                .route("/api", r -> r.upstream("http://127.0.0.1:8000")
                        .policies(IpFilterPolicyConfig.allow("10.0.0.0/8"),
                                HeadersPolicyConfig.of(req -> req.set("X-Env", "prod"), resp -> resp.remove("Server")))
                        .policy(new ApiKeyPolicy(Map.of("key", "s3cret"))))
                .route("/old", r -> r.upstream("http://127.0.0.1:8000")
                        .policies(RedirectPolicyConfig.of("https://new.example${path}${query}", 301)))
                .timeouts(t -> t.connect(Duration.ofSeconds(2)).response(Duration.ofSeconds(30)))   // others: defaults
                .limits(l -> l.maxRequestBody(10 << 20))
                .accessLog(a -> a.format(AccessLogConfig.Format.JSON))
                .operations(o -> o.adminListen("127.0.0.1:9901"))
                .build();

        // An upstream (the keys of `upstreams:`) that several routes share:
        UpstreamConfig api = UpstreamConfig.builder("api")
                .server("http://10.0.0.5:9000", 3)
                .server("http://10.0.0.6:9000", 1)
                .balance(UpstreamConfig.Balance.LEAST_REQUEST)
                .healthCheck("/healthz", h -> h.interval(Duration.ofSeconds(2)).expectStatus(200))
                .passive(p -> p.consecutiveFailures(3).on5xx(true))
                .retry(r -> r.attempts(2).retryOn("connect_failure", "reset", "503"))
                .maxConnections(100)
                .build();
        ProxyServer balanced = ProxyServer.builder().listen("127.0.0.1:8080")
                .route("/api", r -> r.upstream(api))
                .route("/v2", r -> r.upstream(api).stripPrefix(true))
                .build();

        Path cert = pem.certificate();
        Path key = pem.key();
        ProxyServer tls = ProxyServer.builder()
                .listen(l -> l.address("0.0.0.0:8443").tls(t -> t.certificate(cert, key)))
                .listen(l -> l.address("0.0.0.0:8080").redirectHttps(true))
                .route("/", r -> r.upstream("https://backend.internal:8443")
                        .upstreamTls(u -> u.serverName("backend.internal")))
                .build();

        // gRPC: an HTTP/2 upstream (h2c: cleartext, prior knowledge), clients on HTTP/1.1, HTTP/2, HTTP/3 and gRPC-Web
        UpstreamConfig orders = UpstreamConfig.builder("orders")
                .server("http://10.0.0.7:50051", 1)
                .protocol(UpstreamConfig.Protocol.H2C)
                .http2(h -> h.maxStreamsPerConnection(200))
                .healthCheck(HealthCheckConfig.grpc("orders.v1.Orders").build())
                .build();
        ProxyServer grpc = ProxyServer.builder()
                .listen(l -> l.address("0.0.0.0:8443").tls(t -> t.certificate(cert, key)).http3(true))
                .route("/orders.v1.Orders/", r -> r.upstream(orders).grpcWeb(true))
                .build();

        assertThat(proxy.config().routes()).extracting(route -> route.upstream().toString())
                .containsExactly("http://localhost:8000", "http://localhost:8001");
        ProxyConfig c = custom.config();
        assertThat(c.timeouts()).isEqualTo(new TimeoutsConfig(Duration.ofSeconds(2), Duration.ofSeconds(30),
                TimeoutsConfig.DEFAULT_IDLE, TimeoutsConfig.DEFAULT_REQUEST_HEADER, TimeoutsConfig.DEFAULT_DRAIN));
        assertThat(c.limits().maxRequestBody()).isEqualTo(10 << 20);
        assertThat(c.accessLog().format()).isEqualTo(AccessLogConfig.Format.JSON);
        assertThat(c.operations().adminListen()).hasToString("127.0.0.1:9901");
        assertThat(c.routes().get(0).policies()).hasSize(3);
        assertThat(c.policies().defaults()).hasSize(1);
        assertThat(balanced.config().routes()).allSatisfy(route -> assertThat(route.upstream()).isSameAs(api));
        assertThat(orders.protocol()).isEqualTo(UpstreamConfig.Protocol.H2C);
        assertThat(orders.http2().maxStreamsPerConnection()).isEqualTo(200);
        assertThat(orders.healthCheck().grpc()).isTrue();
        assertThat(orders.healthCheck().service()).isEqualTo("orders.v1.Orders");
        assertThat(grpc.config().listen().get(0).http3()).isTrue();
        assertThat(grpc.config().routes().get(0).grpcWeb()).isTrue();
        assertThat(api.servers()).extracting(ServerConfig::weight).containsExactly(3, 1);
        assertThat(api.healthCheck().expectMax()).isEqualTo(200);
        assertThat(tls.config().listen().get(0).tls().certificates().get(0).certificate()).isEqualTo(cert);
        assertThat(tls.config().listen().get(1).redirectHttps()).isTrue();
        assertThat(tls.config().routes().get(0).upstreamTls().serverName()).isEqualTo("backend.internal");
    }

    /** The README's lines that run servers: compiled here, never called. */
    @SuppressWarnings("unused")
    private static void running(ProxyServer proxy) {
        proxy.start();          // returns once bound; port 0 binds an ephemeral port, proxy.port() tells which
        proxy.stop();           // graceful

        Path file = Path.of("portico.yaml");
        ProxyServer fromFile = new ProxyServer(ProxyConfig.load(file), file).start();
        fromFile.reload().join();   // ReloadResult: applied, or the problems; fromFile.adminAddress() if admin.listen is set
    }

    @Test
    void everyLineOfTheReadmeExampleIsCopiedHere() throws IOException {
        List<String> here = Files.readAllLines(SOURCE).stream().map(ReadmeExampleTest::code).toList();
        List<String> missing = new ArrayList<>();
        for (String line : readmeExample()) {
            String code = code(line);
            if (!code.isEmpty() && !REPLACED.contains(code) && !here.contains(code)) {
                missing.add(line);
            }
        }
        assertThat(missing).as("README lines not in %s", SOURCE).isEmpty();
    }

    private static List<String> readmeExample() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("\n## Java API\n");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        int end = readme.indexOf("```", start);
        assertThat(section).isNotNegative();
        return readme.substring(start, end).lines().toList();
    }

    /** A line without indentation or a trailing comment ({@code https://} has no space before its slashes). */
    private static String code(String line) {
        return line.replaceFirst("(^|\\s+)//.*$", "").trim();
    }
}
