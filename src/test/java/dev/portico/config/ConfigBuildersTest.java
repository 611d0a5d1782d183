package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portico.config.ListenerTlsConfig.ClientAuth;
import dev.portico.config.UpstreamConfig.Balance;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each config builder makes the record the equivalent YAML makes, and refuses what the record refuses. */
class ConfigBuildersTest {
    private static final String MINIMAL = """
            listen: [127.0.0.1:8080]
            routes: {/: "http://127.0.0.1:9000"}
            """;

    @TempDir
    static Path dir;
    private static Pem server;
    private static Pem caPem;

    @BeforeAll
    static void files() throws Exception {
        Issued root = TestCertificates.ca("CA");
        server = TestCertificates.server(root, "a.test").write(dir, "a");
        caPem = root.write(dir, "ca");
    }

    private static ProxyConfig parse(String yaml) {
        return ProxyConfig.parse(yaml, "test.yaml");
    }

    /** A path for YAML: absolute, so that it resolves to itself. */
    private static String yamlPath(Path file) {
        return "\"" + file.toAbsolutePath() + "\"";
    }

    @Test
    void timeoutsBuilderMatchesYamlAndKeepsDefaultsForUnsetKeys() {
        ProxyConfig yaml = parse(MINIMAL + """
                timeouts:
                  connect: 2s
                  response: 30s
                  idle: 90s
                  request_header: 5s
                  drain: 20s
                  tls_handshake: 3s
                  tunnel_idle: 10m
                  drain_delay: 1s
                """);

        TimeoutsConfig built = TimeoutsConfig.builder().connect(Duration.ofSeconds(2)).response(Duration.ofSeconds(30))
                .idle(Duration.ofSeconds(90)).requestHeader(Duration.ofSeconds(5)).drain(Duration.ofSeconds(20))
                .tlsHandshake(Duration.ofSeconds(3)).tunnelIdle(Duration.ofMinutes(10))
                .drainDelay(Duration.ofSeconds(1)).build();

        assertThat(built).isEqualTo(yaml.timeouts());
        assertThat(TimeoutsConfig.builder().connect(Duration.ofSeconds(2)).build())
                .isEqualTo(parse(MINIMAL + "timeouts: {connect: 2s}").timeouts());
    }

    @Test
    void timeoutsBuilderRefusesAZeroTimeout() {
        assertThatThrownBy(() -> TimeoutsConfig.builder().connect(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("connect must be positive");
    }

    @Test
    void limitsBuilderMatchesYaml() {
        ProxyConfig yaml = parse(MINIMAL + """
                limits:
                  max_request_line: 4KiB
                  max_header_size: 32KiB
                  max_request_body: 10MiB
                  max_headers: 50
                  max_connections: 500
                  max_requests_per_connection: 100
                  max_method_length: 16
                  max_buffered_bytes: 32MiB
                """);

        LimitsConfig built = LimitsConfig.builder().maxRequestLine(4 << 10).maxHeaderSize(32 << 10)
                .maxRequestBody(10 << 20).maxHeaders(50).maxConnections(500).maxRequestsPerConnection(100)
                .maxMethodLength(16).maxBufferedBytes(32 << 20).build();

        assertThat(built).isEqualTo(yaml.limits());
    }

    @Test
    void limitsBuilderRefusesZeroHeaders() {
        assertThatThrownBy(() -> LimitsConfig.builder().maxHeaders(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("max_headers must be between");
    }

    @Test
    void listenerBuildersMatchYamlForEveryKey() {
        ProxyConfig yaml = parse("""
                listen:
                  - {address: "127.0.0.1:8080", h2c: true}
                  - address: "[::1]:8443"
                    tls:
                      certificate: %s
                      key: %s
                      protocols: [TLSv1.3]
                      alpn: [http/1.1]
                      client_auth: optional
                      client_ca: %s
                  - {address: "127.0.0.1:8081", redirect_https: true, proxy_protocol: true}
                trusted_proxies: [10.0.0.0/8]
                routes: {/: "http://127.0.0.1:9000"}
                """.formatted(yamlPath(server.certificate()), yamlPath(server.key()), yamlPath(caPem.certificate())));

        ListenerConfig h2c = ListenerConfig.builder().address("127.0.0.1:8080").h2c(true).build();
        ListenerConfig tls = ListenerConfig.builder().address("[::1]:8443")
                .tls(t -> t.certificate(server.certificate().toAbsolutePath(), server.key().toAbsolutePath())
                        .protocols("TLSv1.3").alpn("http/1.1").clientAuth(ClientAuth.OPTIONAL)
                        .clientCa(caPem.certificate().toAbsolutePath()))
                .build();
        ListenerConfig redirect = ListenerConfig.builder().address("127.0.0.1", 8081).redirectHttps(true)
                .proxyProtocol(true).build();

        assertThat(yaml.listen()).containsExactly(h2c, tls, redirect);
    }

    @Test
    void listenerBuilderRefusesTlsWithH2cOrRedirectAndAMissingAddress() {
        ListenerTlsConfig tls = ListenerTlsConfig.builder().certificate(server.certificate(), server.key()).build();

        assertThatThrownBy(() -> ListenerConfig.builder().address("127.0.0.1:0").tls(tls).h2c(true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("h2c is for plain listeners");
        assertThatThrownBy(() -> ListenerConfig.builder().address("127.0.0.1:0").tls(tls).redirectHttps(true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("redirect_https");
        assertThatThrownBy(() -> ListenerConfig.builder().h2c(true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("address is required");
    }

    @Test
    void listenerTlsBuilderRefusesClientAuthWithoutCaAndNoCertificate() {
        assertThatThrownBy(() -> ListenerTlsConfig.builder().certificate(server.certificate(), server.key())
                .clientAuth(ClientAuth.REQUIRE).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("client_ca is required");
        assertThatThrownBy(() -> ListenerTlsConfig.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one certificate");
    }

    @Test
    void upstreamBuilderMatchesYamlForEveryKey() {
        ProxyConfig yaml = parse("""
                listen: [127.0.0.1:8080]
                upstreams:
                  api:
                    servers:
                      - {url: "http://10.0.0.5:9000/v1", weight: 3}
                      - "http://10.0.0.6:9000/v1"
                    balance: hash
                    hash_on: "header:X-User-Id"
                    health_check: {path: /healthz, interval: 2s, timeout: 500ms, healthy_threshold: 3,
                                   unhealthy_threshold: 4, expect_status: 200-299}
                    passive: {consecutive_failures: 3, eject_for: 10s, max_ejected_percent: 30, on_5xx: true}
                    retry: {attempts: 2, retry_on: [connect_failure, reset, 503], idempotent_only: false,
                            budget_percent: 30, per_try_timeout: 2s, backoff: 50ms, buffer: 128KiB}
                    max_connections: 100
                    max_pending: 10
                    slow_start: 30s
                routes: {/api: api}
                """);

        UpstreamConfig built = UpstreamConfig.builder("api").server("http://10.0.0.5:9000/v1", 3)
                .servers("http://10.0.0.6:9000/v1").balance(Balance.HASH).hashOn("header:X-User-Id")
                .healthCheck("/healthz", h -> h.interval(Duration.ofSeconds(2)).timeout(Duration.ofMillis(500))
                        .healthyThreshold(3).unhealthyThreshold(4).expectStatus(200, 299))
                .passive(p -> p.consecutiveFailures(3).ejectFor(Duration.ofSeconds(10)).maxEjectedPercent(30)
                        .on5xx(true))
                .retry(r -> r.attempts(2).retryOn("connect_failure", "reset", "503").idempotentOnly(false)
                        .budgetPercent(30).perTryTimeout(Duration.ofSeconds(2)).backoff(Duration.ofMillis(50))
                        .buffer(128 << 10))
                .maxConnections(100).maxPending(10).slowStart(Duration.ofSeconds(30)).build();

        assertThat(built).isEqualTo(yaml.routes().get(0).upstream());
    }

    @Test
    void upstreamBuilderWithTlsMatchesYaml() {
        ProxyConfig yaml = parse("""
                listen: [127.0.0.1:8080]
                upstreams:
                  secure:
                    servers: ["https://backend.internal:8443"]
                    tls: {ca: %s, server_name: backend.test, certificate: %s, key: %s}
                routes: {/: secure}
                """.formatted(yamlPath(caPem.certificate()), yamlPath(server.certificate()),
                yamlPath(server.key())));

        UpstreamConfig built = UpstreamConfig.builder("secure").servers("https://backend.internal:8443")
                .tls(t -> t.ca(caPem.certificate().toAbsolutePath()).serverName("backend.test")
                        .certificate(server.certificate().toAbsolutePath()).key(server.key().toAbsolutePath()))
                .build();

        assertThat(built).isEqualTo(yaml.routes().get(0).upstream());
    }

    @Test
    void upstreamBuilderRefusesHashWithoutHashOnAndAnEmptyServerList() {
        assertThatThrownBy(() -> UpstreamConfig.builder("api").servers("http://10.0.0.5:9000")
                .balance(Balance.HASH).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hash_on is required");
        assertThatThrownBy(() -> UpstreamConfig.builder("api").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one server");
        assertThatThrownBy(() -> UpstreamConfig.builder().servers("http://a:1").retry(r -> r.retryOn("404")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retry_on");
        assertThatThrownBy(() -> UpstreamConfig.builder().healthCheck("healthz", h -> h))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("path must start with /");
        assertThatThrownBy(() -> UpstreamConfig.builder().passive(p -> p.maxEjectedPercent(101)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("max_ejected_percent");
    }

    @Test
    void upstreamTlsBuilderRefusesACertificateWithoutKey() {
        assertThatThrownBy(() -> UpstreamTlsConfig.builder().certificate(server.certificate()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("certificate needs a key");
    }

    @Test
    void http2BuilderMatchesYaml() {
        ProxyConfig yaml = parse(MINIMAL + """
                http2:
                  max_concurrent_streams: 50
                  max_header_list_size: 32KiB
                  max_resets: 100
                  reset_window: 10s
                  max_small_continuation_frames: 8
                  max_queued_control_frames: 5000
                  max_control_frames_per_second: 40
                """);

        Http2Config built = Http2Config.builder().maxConcurrentStreams(50).maxHeaderListSize(32 << 10)
                .maxResets(100).resetWindow(Duration.ofSeconds(10)).maxSmallContinuationFrames(8)
                .maxQueuedControlFrames(5000).maxControlFramesPerSecond(40).build();

        assertThat(built).isEqualTo(yaml.http2());
    }

    @Test
    void http2BuilderRefusesAResetWindowInFractionsOfSeconds() {
        assertThatThrownBy(() -> Http2Config.builder().resetWindow(Duration.ofMillis(1500)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("reset_window must be whole");
    }

    @Test
    void operationsBuilderMatchesYaml() {
        ProxyConfig yaml = parse(MINIMAL + """
                admin: {listen: "127.0.0.1:9901"}
                request_id: {enabled: false, header: X-Trace-Id}
                tracing: {generate: true}
                reload: {watch: true}
                """);

        OperationsConfig built = OperationsConfig.builder().adminListen("127.0.0.1:9901").requestIdEnabled(false)
                .requestIdHeader("X-Trace-Id").tracingGenerate(true).reloadWatch(true).build();

        assertThat(built).isEqualTo(yaml.operations());
    }

    @Test
    void operationsBuilderRefusesAnInvalidHeaderName() {
        assertThatThrownBy(() -> OperationsConfig.builder().requestIdHeader("X Request").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a valid header field name");
    }

    @Test
    void accessLogBuilderMatchesYaml() {
        ProxyConfig yaml = parse(MINIMAL + """
                access_log: {enabled: false, format: json, path: /var/log/portico/access.log}
                """);

        AccessLogConfig built = AccessLogConfig.builder().enabled(false).format(AccessLogConfig.Format.JSON)
                .path("/var/log/portico/access.log").build();

        assertThat(built).isEqualTo(yaml.accessLog());
    }

    @Test
    void accessLogBuilderRefusesAnEmptyPath() {
        assertThatThrownBy(() -> AccessLogConfig.builder().path(" ").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("path is empty");
    }

    @Test
    void proxyConfigBuilderOverloadsMakeTheWholeYamlConfiguration() {
        ProxyConfig yaml = parse("""
                listen:
                  - {address: "127.0.0.1:8080", h2c: true}
                routes:
                  /api: ["http://10.0.0.5:9000", "http://10.0.0.6:9000"]
                timeouts: {connect: 2s, drain_delay: 5s}
                limits: {max_request_body: 1MiB}
                http2: {max_concurrent_streams: 20}
                access_log: {format: json}
                admin: {listen: "127.0.0.1:9901"}
                """);

        ProxyConfig built = ProxyConfig.builder()
                .listen(l -> l.address("127.0.0.1:8080").h2c(true))
                .route("/api", r -> r.upstream(u -> u.servers("http://10.0.0.5:9000", "http://10.0.0.6:9000")))
                .timeouts(t -> t.connect(Duration.ofSeconds(2)))
                .timeouts(t -> t.drainDelay(Duration.ofSeconds(5)))
                .limits(l -> l.maxRequestBody(1 << 20))
                .http2(h -> h.maxConcurrentStreams(20))
                .accessLog(a -> a.format(AccessLogConfig.Format.JSON))
                .operations(o -> o.adminListen("127.0.0.1:9901"))
                .build();

        assertThat(built).isEqualTo(yaml);
    }
}
