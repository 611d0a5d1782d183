package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.RateLimitPolicyConfig.HeaderStyle;
import dev.portico.policy.Decision;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code rate_limit} with the local store, through a real proxy and backend. */
@Timeout(30)
class RateLimitPolicyTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private void start(RateLimitPolicyConfig... policies) {
        portico.start(b -> b.route("/", r -> r.upstream(backend.url()).policies(policies)));
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return portico.send(b.build());
    }

    @Test
    void anEmptyBucketAnswers429WithRetryAfterAndNothingReachesTheBackend() throws Exception {
        start(RateLimitPolicyConfig.builder("2/m").build());

        HttpResponse<String> first = get("/a");
        HttpResponse<String> second = get("/a");
        HttpResponse<String> third = get("/a");

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(third.statusCode()).isEqualTo(429);
        // One token per 30 s: the next one is about 30 s away, in whole seconds rounded up.
        long retry = Long.parseLong(third.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retry).isBetween(29L, 30L);
        assertThat(backend.pending()).isEqualTo(2);
    }

    @Test
    void ietfFieldsNameThePolicyAndCountDownTheBucket() throws Exception {
        start(RateLimitPolicyConfig.builder("3/m").build());

        HttpResponse<String> first = get("/a");
        get("/a");
        get("/a");
        HttpResponse<String> refused = get("/a");

        assertThat(first.headers().firstValue("RateLimit-Policy")).hasValue("\"default\";q=3;w=60");
        // One token used at 3/m: full again in 20 s.
        assertThat(first.headers().firstValue("RateLimit").orElseThrow()).matches("\"default\";r=2;t=(19|20)");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("RateLimit").orElseThrow()).matches("\"default\";r=0;t=(59|60)");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("20");
    }

    @Test
    void legacyFieldsGiveLimitRemainingAndSecondsUntilFull() throws Exception {
        start(RateLimitPolicyConfig.builder("6/m").burst(2).headers(HeaderStyle.LEGACY).build());

        HttpResponse<String> first = get("/a");

        assertThat(first.headers().firstValue("X-RateLimit-Limit")).hasValue("6");
        assertThat(first.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
        // One token used at 6/m: the bucket is full again in 10 s.
        assertThat(Long.parseLong(first.headers().firstValue("X-RateLimit-Reset").orElseThrow())).isBetween(9L, 10L);
        assertThat(first.headers().firstValue("RateLimit")).isEmpty();
    }

    @Test
    void headersNoneSendsNoRateLimitFieldsEvenOnA429() throws Exception {
        start(RateLimitPolicyConfig.builder("1/m").headers(HeaderStyle.NONE).build());

        get("/a");
        HttpResponse<String> refused = get("/a");

        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(refused.headers().map().keySet()).noneMatch(k -> k.toLowerCase().contains("ratelimit"));
    }

    @Test
    void requestsWithoutTheKeyShareOneMissingBucket() throws Exception {
        start(RateLimitPolicyConfig.builder("1/m").key("header:X-Api-Key").build());

        assertThat(get("/a").statusCode()).isEqualTo(200);
        assertThat(get("/a").statusCode()).isEqualTo(429);
        assertThat(get("/a", "X-Api-Key", "alpha").statusCode()).isEqualTo(200);
        assertThat(get("/a", "X-Api-Key", "alpha").statusCode()).isEqualTo(429);
        assertThat(get("/a", "X-Api-Key", "beta").statusCode()).isEqualTo(200);
    }

    @Test
    void aListOfPartsKeysByTheirCombination() throws Exception {
        start(RateLimitPolicyConfig.builder("1/m").key("client_ip", "header:X-Tenant").build());

        assertThat(get("/a", "X-Tenant", "t1").statusCode()).isEqualTo(200);
        assertThat(get("/a", "X-Tenant", "t2").statusCode()).isEqualTo(200);
        assertThat(get("/a", "X-Tenant", "t1").statusCode()).isEqualTo(429);
    }

    @Test
    void jwtClaimKeysReadTheClaimsAnEarlierPolicyVerifiedAndMissingClaimsShareOneBucket() throws Exception {
        // Stands in for the jwt policy: it records the claims of a "verified" token.
        Policy claims = new Policy() {
            @Override
            public Decision onRequest(RequestContext r) {
                String sub = r.headers().get("X-Test-Sub");
                if (sub != null) {
                    ((PolicyRun) r).verifiedClaims(Map.of("sub", sub));
                }
                return Decision.proceed();
            }
        };
        portico.start(b -> b.route("/", r -> r.upstream(backend.url()).policies(CustomPolicyConfig.of(claims),
                RateLimitPolicyConfig.builder("1/m").key("jwt_claim:sub").build())));

        assertThat(get("/a", "X-Test-Sub", "alice").statusCode()).isEqualTo(200);
        assertThat(get("/a", "X-Test-Sub", "alice").statusCode()).isEqualTo(429);
        assertThat(get("/a", "X-Test-Sub", "bob").statusCode()).isEqualTo(200);
        assertThat(get("/a").statusCode()).isEqualTo(200);
        assertThat(get("/a").statusCode()).isEqualTo(429);
    }

    @Test
    void http2StreamsAreLimitedTheSameWay() throws Exception {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", r -> r.upstream(backend.url()).policies(RateLimitPolicyConfig.builder("1/m").build()))
                .build());
        try (H2Client c = H2Client.connect(portico.port())) {
            assertThat(c.get("/a").get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            H2Client.Result refused = c.get("/a").get(10, TimeUnit.SECONDS);

            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.headers().get("retry-after")).isEqualTo("60");
            assertThat(refused.headers().get("ratelimit")).startsWith("\"default\";r=0;");
        }
        assertThat(backend.pending()).isEqualTo(1);
    }

    @Test
    void aNamedPolicyFromYamlNamesItselfInTheFields() throws Exception {
        String yaml = """
                listen: 127.0.0.1:0
                workers: 1
                policies:
                  per-client:
                    rate_limit:
                      rate: 10/s
                routes:
                  - path: /
                    upstream: %s
                    policies: [per-client]
                """.formatted(backend.url());
        portico.start(ProxyConfig.parse(yaml, "test.yaml"));

        HttpResponse<String> r = get("/a");

        assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue("\"per-client\";q=10;w=1");
        assertThat(r.headers().firstValue("RateLimit").orElseThrow()).startsWith("\"per-client\";r=9;");
    }
}
