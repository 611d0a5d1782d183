package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portico.config.CorsPolicyConfig;
import dev.portico.config.HeaderRulesConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.PolicyConfig;
import dev.portico.config.RedirectPolicyConfig;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.config.RewritePolicyConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
import dev.portico.policy.LocalResponse;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BuiltinPoliciesTest {
    /** What a run ended with. */
    private static final class Outcome implements PolicyRun.Host {
        boolean passed;
        LocalResponse answer;
        String policy;
        Throwable failure;

        @Override
        public void policiesPassed(PolicyRun run) {
            passed = true;
        }

        @Override
        public void policyAnswered(PolicyRun run, LocalResponse response, String name) {
            answer = response;
            policy = name;
        }

        @Override
        public void policyFailed(PolicyRun run, Throwable cause, String name) {
            failure = cause;
            policy = name;
        }
    }

    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final Outcome outcome = new Outcome();

    private PolicyRun run(HttpRequest request, String client, boolean tls, PolicyConfig... configs) throws Exception {
        PolicyRegistry registry = PolicyRegistry.empty();
        List<dev.portico.policy.Policy> ps = java.util.Arrays.stream(configs).map(PolicyRegistry::create).toList();
        List<String> names = java.util.Arrays.stream(configs).map(PolicyConfig::type).toList();
        String uri = request.uri();
        int q = uri.indexOf('?');
        PolicyRun run = new PolicyRun(PolicyChain.of(ps, names), outcome, loop.eventLoop(), request,
                q < 0 ? uri : uri.substring(0, q), q < 0 ? "" : uri.substring(q), "www.example.com", tls, "HTTP/1.1",
                InetAddress.getByName(client), "rid-1", "/api");
        assertThat(registry).isNotNull();
        run.start();
        return run;
    }

    private static HttpRequest get(String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static HttpResponse ok(String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    @Test
    void headersRulesChangeRequestAndResponseWithVariables() throws Exception {
        HttpRequest req = get("/api/x?a=1", "x-debug", "1", "X-ENV", "dev", "x-env", "test", "User-Agent", "t/1");
        PolicyRun run = run(req, "203.0.113.9", false, HeadersPolicyConfig.of(
                r -> r.set("X-Env", "prod").add("X-Tag", "a").add("X-Tag", "b").remove("X-Debug")
                        .setIfAbsent("X-Client", "${client_ip} ${method} ${path}${query} ${header.user-agent}"),
                r -> r.set("Cache-Control", "no-store").remove("Server").add("X-Route", "${route}")));
        assertThat(outcome.passed).isTrue();
        assertThat(req.headers().getAll("x-env")).containsExactly("prod");
        assertThat(req.headers().getAll("x-tag")).containsExactly("a", "b");
        assertThat(req.headers().contains("x-debug")).isFalse();
        assertThat(req.headers().get("x-client")).isEqualTo("203.0.113.9 GET /api/x?a=1 t/1");
        HttpResponse resp = ok("Server", "backend", "Cache-Control", "max-age=60");
        run.onResponse(resp, false);
        assertThat(resp.headers().getAll("cache-control")).containsExactly("no-store");
        assertThat(resp.headers().contains("server")).isFalse();
        assertThat(resp.headers().get("x-route")).isEqualTo("/api");
    }

    @Test
    void rewriteReplacesThePathAndKeepsTheQuery() throws Exception {
        PolicyRun run = run(get("/v1/users?id=3"), "10.0.0.1", false,
                new RewritePolicyConfig("^/v1/(.*)$", "/api/$1"));
        assertThat(outcome.passed).isTrue();
        assertThat(run.path()).isEqualTo("/api/users");
        assertThat(run.originalPath()).isEqualTo("/v1/users");
        assertThat(run.query()).isEqualTo("?id=3");
    }

    @Test
    void rewriteToAnInvalidPathFailsTheRequest() throws Exception {
        run(get("/v1/a"), "10.0.0.1", false, new RewritePolicyConfig("^/v1/(.*)$", "/x y/$1"));
        assertThat(outcome.passed).isFalse();
        assertThat(outcome.failure).hasMessageContaining("not an origin-form path");
        assertThat(outcome.policy).isEqualTo("rewrite");
    }

    @Test
    void redirectAndRespondAnswerLocallyAndStopTheChain() throws Exception {
        run(get("/old/p?q=1"), "10.0.0.1", false, RedirectPolicyConfig.of("https://new.example${path}${query}", 301),
                RespondPolicyConfig.of(200, "never"));
        assertThat(outcome.answer.status()).isEqualTo(301);
        assertThat(outcome.answer.headers()).containsExactly(Map.entry("Location", "https://new.example/old/p?q=1"));
        assertThat(outcome.policy).isEqualTo("redirect");
        Outcome second = new Outcome();
        PolicyRun r = new PolicyRun(PolicyChain.of(List.of(PolicyRegistry.create(RespondPolicyConfig.of(503,
                "down for maintenance"))), List.of("respond")), second, loop.eventLoop(), get("/"), "/", "", "", false,
                "HTTP/1.1", InetAddress.getByName("10.0.0.1"), "", "/");
        r.start();
        assertThat(second.answer.status()).isEqualTo(503);
        assertThat(new String(second.answer.body())).isEqualTo("down for maintenance");
    }

    @Test
    void ipFilterDenyWinsAndAllowListRefusesEveryoneElse() throws Exception {
        IpFilterPolicyConfig cfg = new IpFilterPolicyConfig(
                List.of(dev.portico.config.Cidr.parse("10.0.0.0/8")), List.of(dev.portico.config.Cidr.parse("10.9.0.0/16")));
        IpFilterPolicy p = new IpFilterPolicy(cfg);
        assertThat(p.allowed(InetAddress.getByName("10.1.2.3"))).isTrue();
        assertThat(p.allowed(InetAddress.getByName("10.9.2.3"))).isFalse();
        assertThat(p.allowed(InetAddress.getByName("192.168.0.1"))).isFalse();
        run(get("/"), "192.168.0.1", false, cfg);
        assertThat(outcome.answer.status()).isEqualTo(403);
    }

    @Test
    void securityHeadersKeepTheBackendsValuesAndSendHstsOnlyOverTls() throws Exception {
        SecurityHeadersPolicyConfig strict = SecurityHeadersPolicyConfig.builder("strict").build();
        PolicyRun plain = run(get("/"), "10.0.0.1", false, strict);
        HttpResponse r1 = ok("X-Frame-Options", "SAMEORIGIN");
        plain.onResponse(r1, false);
        assertThat(r1.headers().getAll("x-frame-options")).containsExactly("SAMEORIGIN");
        assertThat(r1.headers().get("x-content-type-options")).isEqualTo("nosniff");
        assertThat(r1.headers().contains("strict-transport-security")).isFalse();
        PolicyRun tls = run(get("/"), "10.0.0.1", true,
                SecurityHeadersPolicyConfig.builder("strict").override(true).build());
        HttpResponse r2 = ok("X-Frame-Options", "SAMEORIGIN");
        tls.onResponse(r2, true);
        assertThat(r2.headers().getAll("x-frame-options")).containsExactly("DENY");
        assertThat(r2.headers().get("strict-transport-security")).isEqualTo("max-age=31536000; includeSubDomains");
        assertThat(r2.headers().get("permissions-policy")).contains("camera=()");
    }

    @Test
    void corsAnswersAnAllowedPreflightAndLeavesOthersToTheBackend() throws Exception {
        CorsPolicyConfig cors = CorsPolicyConfig.builder("https://app.example", "~^https://.*\\.example\\.org$")
                .allowMethods("GET", "PUT").allowHeaders("X-Token").maxAge(Duration.ofMinutes(10))
                .allowCredentials(true).build();
        HttpRequest preflight = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.OPTIONS, "/api");
        preflight.headers().add("Origin", "https://a.example.org").add("Access-Control-Request-Method", "PUT");
        run(preflight, "10.0.0.1", false, cors);
        assertThat(outcome.answer.status()).isEqualTo(204);
        assertThat(outcome.answer.headers()).contains(Map.entry("Access-Control-Allow-Origin", "https://a.example.org"),
                Map.entry("Access-Control-Allow-Methods", "GET, PUT"), Map.entry("Access-Control-Allow-Headers",
                        "X-Token"), Map.entry("Access-Control-Max-Age", "600"),
                Map.entry("Access-Control-Allow-Credentials", "true"), Map.entry("Vary", "Origin"));

        Outcome other = new Outcome();
        HttpRequest foreign = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.OPTIONS, "/api");
        foreign.headers().add("Origin", "https://evil.example").add("Access-Control-Request-Method", "PUT");
        new PolicyRun(PolicyChain.of(List.of(PolicyRegistry.create(cors)), List.of("cors")), other, loop.eventLoop(),
                foreign, "/api", "", "", false, "HTTP/1.1", InetAddress.getByName("10.0.0.1"), "", "/api").start();
        assertThat(other.passed).isTrue();
    }

    @Test
    void corsReplacesTheBackendsFieldsOnActualResponses() throws Exception {
        PolicyRun run = run(get("/api", "Origin", "https://app.example"), "10.0.0.1", false,
                CorsPolicyConfig.builder("https://app.example").exposeHeaders("X-Total").build());
        HttpResponse r = ok("Access-Control-Allow-Origin", "*", "Vary", "Accept-Encoding");
        run.onResponse(r, false);
        assertThat(r.headers().getAll("access-control-allow-origin")).containsExactly("https://app.example");
        assertThat(r.headers().get("access-control-expose-headers")).isEqualTo("X-Total");
        assertThat(r.headers().getAll("vary")).containsExactly("Accept-Encoding", "Origin");
        PolicyRun wildcard = run(get("/api", "Origin", "https://any.example"), "10.0.0.1", false,
                CorsPolicyConfig.builder("*").build());
        HttpResponse w = ok();
        wildcard.onResponse(w, false);
        assertThat(w.headers().get("access-control-allow-origin")).isEqualTo("*");
        assertThat(w.headers().contains("vary")).isFalse();
    }

    @Test
    void aPolicyThatThrowsFailsTheRequestWithItsName() throws Exception {
        dev.portico.policy.Policy boom = new dev.portico.policy.Policy() {
            @Override
            public dev.portico.policy.Decision onRequest(dev.portico.policy.RequestContext r) {
                throw new IllegalStateException("boom");
            }
        };
        new PolicyRun(PolicyChain.of(List.of(boom), List.of("boom")), outcome, loop.eventLoop(), get("/"), "/", "",
                "", false, "HTTP/1.1", InetAddress.getByName("10.0.0.1"), "", "/").start();
        assertThat(outcome.failure).hasMessage("boom");
        assertThat(outcome.policy).isEqualTo("boom");
    }

    @Test
    void aSuspensionResumesOnTheLoopOnceAndTimesOut() throws Exception {
        dev.portico.policy.Suspension[] handle = new dev.portico.policy.Suspension[1];
        dev.portico.policy.Policy async = new dev.portico.policy.Policy() {
            @Override
            public dev.portico.policy.Decision onRequest(dev.portico.policy.RequestContext r) {
                handle[0] = r.suspend(Duration.ofSeconds(5));
                return dev.portico.policy.Decision.suspended();
            }
        };
        PolicyRun run = new PolicyRun(PolicyChain.of(List.of(async), List.of("async")), outcome, loop.eventLoop(),
                get("/"), "/", "", "", false, "HTTP/1.1", InetAddress.getByName("10.0.0.1"), "", "/");
        run.start();
        assertThat(run.suspended()).isTrue();
        Thread t = new Thread(() -> {
            handle[0].respond(LocalResponse.text(401, "no"));
            handle[0].proceed(); // a second decision does nothing
        });
        t.start();
        t.join(5000);
        assertThat(outcome.answer).isNull(); // not until the loop runs it
        loop.runPendingTasks();
        assertThat(outcome.answer.status()).isEqualTo(401);
        assertThat(outcome.passed).isFalse();

        Outcome timedOut = new Outcome();
        dev.portico.policy.Policy slow = new dev.portico.policy.Policy() {
            @Override
            public dev.portico.policy.Decision onRequest(dev.portico.policy.RequestContext r) {
                r.suspend(Duration.ofMillis(1));
                return dev.portico.policy.Decision.suspended();
            }
        };
        new PolicyRun(PolicyChain.of(List.of(slow), List.of("slow")), timedOut, loop.eventLoop(), get("/"), "/", "",
                "", false, "HTTP/1.1", InetAddress.getByName("10.0.0.1"), "", "/").start();
        Thread.sleep(20);
        loop.runScheduledPendingTasks();
        loop.runPendingTasks();
        assertThat(timedOut.failure).isInstanceOf(java.util.concurrent.TimeoutException.class);
        assertThat(loop.finishAndReleaseAll()).isFalse();
    }

    @Test
    void localResponsesRefuseFieldsThatWouldSplitTheHead() {
        assertThatThrownBy(() -> LocalResponse.builder(200).header("X", "a\r\nb: c"))
                .hasMessageContaining("control characters");
        assertThatThrownBy(() -> LocalResponse.builder(99)).hasMessageContaining("between 200 and 599");
        assertThat(HeaderRulesConfig.NONE.isEmpty()).isTrue();
    }

    @Test
    void hostIsTheReceivedHostWithoutPortInLowerCase() throws Exception {
        HttpRequest req = get("/");
        PolicyRun run = new PolicyRun(PolicyChain.of(List.of(PolicyRegistry.create(HeadersPolicyConfig.of(
                q -> q.set("X-Host", "${host}"), s -> s))), List.of("headers")), outcome, loop.eventLoop(), req, "/", "",
                "WWW.Example.com:8443", false, "HTTP/1.1", InetAddress.getByName("10.0.0.1"), "", "/");
        run.start();
        assertThat(req.headers().get("X-Host")).isEqualTo("www.example.com");
        assertThat(PolicyRun.bareHost("[2001:DB8::1]:443")).isEqualTo("[2001:db8::1]");
        assertThat(PolicyRun.bareHost(null)).isEmpty();
    }
}
