package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.RedirectPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code portico_policy_decisions_total{policy, outcome}}: each policy's decisions, counted by outcome. */
@Timeout(30)
class PolicyDecisionsMetricsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    /** Throws for requests that ask it to. */
    public static final class Failing implements Policy {
        @Override
        public Decision onRequest(RequestContext r) {
            if (r.headers().contains("X-Fail")) {
                throw new IllegalStateException("asked to fail");
            }
            return Decision.proceed();
        }
    }

    @Test
    void proceedIsAllowedA429IsLimitedAnotherAnswerIsDeniedAndAThrowIsAnError() throws Exception {
        portico.start(b -> b.operations(MetricsTest.ADMIN)
                .route("/limited", r -> r.upstream(backend.url()).policies(CustomPolicyConfig.of(new Failing()),
                        RateLimitPolicyConfig.builder("2/m").build()))
                .route("/blocked", r -> r.upstream(backend.url()).policies(IpFilterPolicyConfig.deny("127.0.0.1"))));
        Admin admin = new Admin(portico.proxy().adminAddress());
        String failing = "class"; // an instance given in Java has no class name configured

        for (int i = 0; i < 3; i++) {
            portico.get("/limited");
        }
        portico.get("/blocked");
        portico.send(java.net.http.HttpRequest.newBuilder(portico.uri("/limited")).header("X-Fail", "1").build());

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Prometheus m = admin.metrics();
            assertThat(m.value("portico_policy_decisions_total", "policy", "rate_limit", "outcome", "allowed"))
                    .isEqualTo(2.0);
            assertThat(m.value("portico_policy_decisions_total", "policy", "rate_limit", "outcome", "limited"))
                    .isEqualTo(1.0);
            assertThat(m.value("portico_policy_decisions_total", "policy", "ip_filter", "outcome", "denied"))
                    .isEqualTo(1.0);
            assertThat(m.value("portico_policy_decisions_total", "policy", failing, "outcome", "allowed"))
                    .isEqualTo(3.0);
            assertThat(m.value("portico_policy_decisions_total", "policy", failing, "outcome", "error"))
                    .isEqualTo(1.0);
        });
        // The request the first policy failed never reached the rate limit.
        assertThat(admin.metrics().value("portico_policy_decisions_total", "policy", "rate_limit", "outcome",
                "error")).isZero();
    }

    @Test
    void aPolicysAnswerCountsAsARequestOfItsRouteAndOneThatServesTheRequestAsAllowed() throws Exception {
        portico.start(b -> b.operations(MetricsTest.ADMIN)
                .route("/limited", r -> r.upstream(backend.url())
                        .policies(RateLimitPolicyConfig.builder("1/m").build()))
                .route("/moved", r -> r.upstream(backend.url()).policies(RedirectPolicyConfig.of("/new", 301))));
        Admin admin = new Admin(portico.proxy().adminAddress());

        for (int i = 0; i < 3; i++) {
            portico.get("/limited");
        }
        portico.get("/moved");

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            Prometheus m = admin.metrics();
            assertThat(m.value("portico_requests_total", "route", "/limited", "status_class", "2xx")).isEqualTo(1.0);
            assertThat(m.value("portico_requests_total", "route", "/limited", "status_class", "4xx")).isEqualTo(2.0);
            assertThat(m.value("portico_requests_total", "route", "/moved", "status_class", "3xx")).isEqualTo(1.0);
            assertThat(m.value("portico_policy_decisions_total", "policy", "redirect", "outcome", "allowed"))
                    .isEqualTo(1.0);
        });
    }
}
