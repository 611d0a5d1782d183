package dev.portico.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CorsPolicyConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RedirectPolicyConfig;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.config.RewritePolicyConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The route's policy chain through a real proxy, over HTTP/1.1 and HTTP/2 (h2c) on the same listener. */
@Timeout(30)
class PolicyChainTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private void start(Consumer<ProxyConfig.Builder> more) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1);
        more.accept(b);
        portico.start(b.build());
    }

    private RawClient.Response http1(String head) throws Exception {
        try (RawClient c = portico.raw()) {
            return c.send(head).read(head.startsWith("HEAD"));
        }
    }

    private H2Client.Result http2(String path, String... headers) throws Exception {
        try (H2Client c = H2Client.connect(portico.port())) {
            return c.send(HttpMethod.GET, path, -1, false, headers).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void headerRulesChangeWhatTheBackendAndTheClientSeeOverBothProtocols() throws Exception {
        start(b -> b.route("/", r -> r.upstream(backend.url()).policies(HeadersPolicyConfig.of(
                q -> q.set("X-Env", "prod").add("X-Client", "${client_ip}").remove("X-Debug"),
                s -> s.set("Cache-Control", "no-store").remove("Via")))));

        RawClient.Response one = http1("GET /a HTTP/1.1\r\nHost: h\r\nX-Env: dev\r\nX-Debug: 1\r\n\r\n");
        TestBackend.Received seen = backend.take();
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.header("cache-control")).isEqualTo("no-store");
        assertThat(one.headers()).doesNotContainKey("via");
        assertThat(seen.headers().getAll("X-Env")).containsExactly("prod");
        assertThat(seen.headers().get("X-Client")).isEqualTo("127.0.0.1");
        assertThat(seen.headers().contains("X-Debug")).isFalse();

        H2Client.Result two = http2("/b", "x-debug", "1");
        seen = backend.take();
        assertThat(two.status()).isEqualTo(200);
        assertThat(two.headers().get("cache-control")).isEqualTo("no-store");
        assertThat(seen.headers().getAll("X-Env")).containsExactly("prod");
        assertThat(seen.headers().contains("X-Debug")).isFalse();
    }

    @Test
    void responseRulesReachPorticosOwnErrorsAndDefaultPoliciesReachTheNoRouteAnswer() throws Exception {
        TestBackend dead = TestBackend.echo();
        String deadUrl = dead.url();
        dead.close();
        start(b -> b.defaultPolicies(SecurityHeadersPolicyConfig.builder("basic").build())
                .route("/down", r -> r.upstream(deadUrl).policies(HeadersPolicyConfig.of(q -> q,
                        s -> s.set("X-Route", "${route}")))));

        RawClient.Response down = http1("GET /down HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(down.status()).isEqualTo(502);
        assertThat(down.header("x-route")).isEqualTo("/down");
        assertThat(down.header("x-content-type-options")).isEqualTo("nosniff");

        RawClient.Response none = http1("GET /elsewhere HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.header("x-frame-options")).isEqualTo("SAMEORIGIN");
        H2Client.Result none2 = http2("/elsewhere");
        assertThat(none2.status()).isEqualTo(404);
        assertThat(none2.headers().get("x-content-type-options")).isEqualTo("nosniff");
    }

    @Test
    void redirectAndRespondAnswerLocallyAndTheAccessLogNamesThePolicy() throws Exception {
        start(b -> b.route("/old", r -> r.upstream(backend.url()).skipDefaultPolicies(true)
                        .policies(RedirectPolicyConfig.of("https://new.example${path}${query}", 301)))
                .route("/robots.txt", r -> r.upstream(backend.url())
                        .policies(RespondPolicyConfig.of(200, "User-agent: *\nDisallow: /\n"))));
        try (AccessLogCapture log = new AccessLogCapture()) {
            RawClient.Response moved = http1("GET /old/page?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(moved.status()).isEqualTo(301);
            assertThat(moved.header("location")).isEqualTo("https://new.example/old/page?x=1");
            assertThat(log.find("/old/page")).contains(" 301 ").contains("policy=redirect");
        }
        H2Client.Result moved2 = http2("/old/x");
        assertThat(moved2.status()).isEqualTo(301);
        assertThat(moved2.headers().get("location")).isEqualTo("https://new.example/old/x");

        RawClient.Response robots = http1("GET /robots.txt HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(robots.body()).isEqualTo("User-agent: *\nDisallow: /\n");
        assertThat(robots.header("content-type")).isEqualTo("text/plain; charset=utf-8");
        RawClient.Response head = http1("HEAD /robots.txt HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(backend.pending()).isZero();
    }

    @Test
    void rewriteChangesThePathButNotTheQuery() throws Exception {
        start(b -> b.route("/v1", r -> r.upstream(backend.url())
                .policies(new RewritePolicyConfig("^/v1/(.*)$", "/api/$1"))));

        assertThat(http1("GET /v1/users?id=%zz HTTP/1.1\r\nHost: h\r\n\r\n").status()).isEqualTo(200);
        assertThat(backend.take().uri()).isEqualTo("/api/users?id=%zz");
        assertThat(http2("/v1/orders").status()).isEqualTo(200);
        assertThat(backend.take().uri()).isEqualTo("/api/orders");
    }

    @Test
    void ipFilterRefusesWith403AndNothingReachesTheBackend() throws Exception {
        start(b -> b.route("/", r -> r.upstream(backend.url()).policies(IpFilterPolicyConfig.deny("127.0.0.0/8"))));

        assertThat(http1("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc").status()).isEqualTo(403);
        assertThat(http2("/").status()).isEqualTo(403);
        assertThat(backend.pending()).isZero();
    }

    @Test
    void behindTrustedProxiesTheClientIsTheRightMostUntrustedHopNotTheSpoofedLeftMostOne() throws Exception {
        start(b -> b.trustedProxies("127.0.0.1", "10.0.0.0/8").route("/", r -> r.upstream(backend.url())
                .policies(IpFilterPolicyConfig.allow("198.51.100.0/24"),
                        HeadersPolicyConfig.of(q -> q.set("X-Seen-Client", "${client_ip}"), s -> s))));

        // The left-most entry is the client's own claim; the right-most untrusted one is what the proxies saw.
        RawClient.Response ok = http1("GET / HTTP/1.1\r\nHost: h\r\n"
                + "X-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.1.1.1\r\n\r\n");
        assertThat(ok.status()).isEqualTo(200);
        TestBackend.Received seen = backend.take();
        assertThat(seen.headers().get("X-Seen-Client")).isEqualTo("198.51.100.7");
        assertThat(seen.headers().get("X-Forwarded-For")).isEqualTo("6.6.6.6, 198.51.100.7, 10.1.1.1, 127.0.0.1");

        RawClient.Response spoofed = http1("GET / HTTP/1.1\r\nHost: h\r\n"
                + "X-Forwarded-For: 198.51.100.7, 203.0.113.9\r\n\r\n");
        assertThat(spoofed.status()).isEqualTo(403);
    }

    @Test
    void corsPreflightFromAnAllowedOriginIsAnsweredAndOthersAreForwarded() throws Exception {
        start(b -> b.route("/api", r -> r.upstream(backend.url()).policies(CorsPolicyConfig
                .builder("https://app.example").allowMethods("GET", "PUT").allowHeaders("X-Token")
                .maxAge(Duration.ofMinutes(5)).allowCredentials(true).build())));

        RawClient.Response pre = http1("OPTIONS /api/x HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example\r\n"
                + "Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: X-Token\r\n\r\n");
        assertThat(pre.status()).isEqualTo(204);
        assertThat(pre.header("access-control-allow-origin")).isEqualTo("https://app.example");
        assertThat(pre.header("access-control-allow-credentials")).isEqualTo("true");
        assertThat(pre.header("access-control-allow-methods")).isEqualTo("GET, PUT");
        assertThat(pre.header("access-control-max-age")).isEqualTo("300");
        assertThat(backend.pending()).isZero();

        RawClient.Response other = http1("OPTIONS /api/x HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\n"
                + "Access-Control-Request-Method: PUT\r\n\r\n");
        assertThat(other.status()).isEqualTo(200);
        assertThat(other.headers()).doesNotContainKey("access-control-allow-origin");
        assertThat(backend.take().method()).isEqualTo("OPTIONS");

        H2Client.Result actual = http2("/api/y", "origin", "https://app.example");
        assertThat(actual.headers().getAll("access-control-allow-origin")).containsExactly("https://app.example");
        assertThat(actual.headers().get("vary")).contains("Origin");
    }

    @Test
    void aRefusingPolicyAnswersBeforeOneHundredContinueSoTheBodyIsNeverSent() throws Exception {
        start(b -> b.route("/", r -> r.upstream(backend.url()).policies(IpFilterPolicyConfig.deny("0.0.0.0/0"))));
        try (RawClient c = portico.raw()) {
            RawClient.Response r = c.send("PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n"
                    + "Expect: 100-continue\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(403); // the first status line: no 100 Continue came before it
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void anHttp2ClientOnARedirectHttpsListenerGetsTheRedirect() throws Exception {
        portico.start(ProxyConfig.builder()
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0, true), null, true)).workers(1)
                .route("/", backend.url()).build());

        H2Client.Result r = http2("/secure?a=1");
        assertThat(r.status()).isEqualTo(308);
        assertThat(r.headers().get("location")).isEqualTo("https://127.0.0.1/secure?a=1");
        assertThat(backend.pending()).isZero();
    }
}
