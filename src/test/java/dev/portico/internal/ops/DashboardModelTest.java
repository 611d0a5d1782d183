package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.internal.server.ProxyRuntime;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dashboard's model: deltas carry only what changed, a removed route is named gone, policy decisions and cache
 * numbers follow traffic, and its cost.
 */
class DashboardModelTest {
    private static ProxyConfig routes(int n, int skip) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1:0").workers(1);
        for (int i = 0; i < n; i++) {
            if (i != skip) {
                b.route("/r" + i, "http://127.0.0.1:9");
            }
        }
        return b.build();
    }

    @Test
    @Timeout(60)
    void deltasCarryOnlyChangesAndNameRemovedRoutes() {
        ProxyRuntime runtime = ProxyRuntime.start(routes(3, -1));
        try {
            DashboardModel model = new DashboardModel(runtime, () -> null, new Certificates());
            DashboardModel.Sample first = model.sample();
            assertThat(first.full()).contains("\"/r0 http://127.0.0.1:9\"", "\"/r2 http://127.0.0.1:9\"",
                    "\"config\":{");
            DashboardModel.Sample idle = model.sample();
            assertThat(idle.delta()).contains("\"routes\":{}", "\"routesGone\":[]", "\"sections\":{}");

            runtime.reload(routes(3, 1));
            DashboardModel.Sample after = model.sample();

            assertThat(after.delta()).contains("\"routesGone\":[\"/r1 http://127.0.0.1:9\"]", "\"config\":{")
                    .contains("\"/r2 http://127.0.0.1:9\":{\"o\":1");
            assertThat(after.full()).doesNotContain("/r1 ");
        } finally {
            runtime.stop(Duration.ZERO);
        }
    }

    @ParameterizedTest(name = "with a cache and a rate limit on every route: {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void samplesAThousandRoutesQuickly(boolean policies) {
        ProxyConfig config = routes(1000, -1);
        if (policies) {
            ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1:0").workers(1)
                    .defaultPolicies(CachePolicyConfig.defaults(), RateLimitPolicyConfig.builder("100/s").build());
            config.routes().forEach(r -> b.route(r.path(), "http://127.0.0.1:9"));
            config = b.build();
        }
        ProxyRuntime runtime = ProxyRuntime.start(config);
        try {
            DashboardModel model = new DashboardModel(runtime, () -> null, new Certificates());
            for (int i = 0; i < 30; i++) {
                model.sample(); // as a running sampler would be, after its first half minute
            }
            int n = 20;
            long t0 = System.nanoTime();
            DashboardModel.Sample s = null;
            for (int i = 0; i < n; i++) {
                s = model.sample();
            }
            long perSample = (System.nanoTime() - t0) / n;
            System.out.printf("dashboard model, 1000 routes%s: %.1f ms per sample, whole state %d KiB, idle delta "
                    + "%d bytes%n", policies ? " with a cache and a rate limit" : "", perSample / 1e6,
                    s.full().length() / 1024, s.delta().length());

            assertThat(Duration.ofNanos(perSample)).as("one sample of 1000 routes").isLessThan(Duration.ofMillis(500));
            assertThat(s.delta().length()).as("an idle delta").isLessThan(1000);
        } finally {
            runtime.stop(Duration.ZERO);
        }
    }

    @Test
    @Timeout(60)
    void aRateLimitedRouteShowsLimitedDecisionsAndACachedRouteItsHitsAndRatio() throws Exception {
        TestBackend backend = TestBackend.start((req, ctx) -> {
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "ok");
            r.headers().set("Cache-Control", "max-age=60");
            ctx.writeAndFlush(r);
        });
        ProxyRuntime runtime = ProxyRuntime.start(ProxyConfig.builder().listen("127.0.0.1:0").workers(1)
                .route("/limited", r -> r.upstream(backend.url()).policies(RateLimitPolicyConfig.builder("2/m")
                        .build()))
                .route("/cached", r -> r.upstream(backend.url()).policies(CachePolicyConfig.defaults())).build());
        try {
            DashboardModel model = new DashboardModel(runtime, () -> null, new Certificates());
            Map<String, Object> before = sections(model.sample().full());
            assertThat(cache(before).get("h")).isEqualTo(0);
            assertThat(cache(before).get("hr")).as("no lookups yet: no ratio").isNull();

            String base = "http://127.0.0.1:" + runtime.boundAddresses().get(0).getPort();
            HttpClient client = HttpClient.newHttpClient();
            int limited = 0;
            for (int i = 0; i < 5; i++) {
                limited += client.send(HttpRequest.newBuilder(URI.create(base + "/limited")).build(),
                        BodyHandlers.discarding()).statusCode() == 429 ? 1 : 0;
            }
            for (int i = 0; i < 4; i++) { // one miss, three hits
                client.send(HttpRequest.newBuilder(URI.create(base + "/cached/a")).build(), BodyHandlers.discarding());
            }
            DashboardModel.Sample after = model.sample();

            Map<String, Object> s = sections(after.full());
            Map<?, ?> rateLimit = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) s.get("policies")).get("d")).get("rate_limit");
            assertThat(limited).isEqualTo(3);
            assertThat(rateLimit.get("n")).as("allowed, limited, denied, error").isEqualTo(List.of(2, 3, 0, 0));
            assertThat(((Number) ((List<?>) rateLimit.get("r")).get(1)).doubleValue()).as("limited/s").isPositive();
            assertThat(((Map<?, ?>) ((Map<?, ?>) s.get("policies")).get("sf")).get("default"))
                    .as("its store failures, a count and a rate").isEqualTo(List.of(0, 0));
            Map<?, ?> all = cache(s);
            assertThat(all.get("h")).isEqualTo(3);
            assertThat(all.get("m")).isEqualTo(1);
            assertThat(all.get("or")).isEqualTo(75);
            assertThat(all.get("hr")).as("the ratio over the window").isEqualTo(75);
            assertThat(all.get("n")).isEqualTo(1);
            assertThat(((Number) all.get("b")).longValue()).isPositive();
            assertThat(all.get("max")).isEqualTo((int) CachePolicyConfig.DEFAULT_MAX_SIZE);
            Map<?, ?> row = (Map<?, ?>) ((List<?>) ((Map<?, ?>) s.get("cache")).get("c")).get(0);
            assertThat(row.get("r")).isEqualTo(List.of("/cached"));
            // The delta carries both changed sections; a further idle sample with unchanged rates would not.
            assertThat(after.delta()).contains("\"policies\":{", "\"cache\":{");
            System.out.printf("dashboard model, a rate limit and a cache under traffic: delta %d bytes%n",
                    after.delta().length());
        } finally {
            runtime.stop(Duration.ZERO);
            backend.close();
        }
    }

    @Test
    @Timeout(60)
    void withoutACacheTheSectionIsNullAndAnIdleProxySendsNoPolicySectionAgain() {
        ProxyRuntime runtime = ProxyRuntime.start(ProxyConfig.builder().listen("127.0.0.1:0").workers(1)
                .route("/limited", r -> r.upstream("http://127.0.0.1:9").policies(RateLimitPolicyConfig
                        .builder("2/m").build())).build());
        try {
            DashboardModel model = new DashboardModel(runtime, () -> null, new Certificates());
            DashboardModel.Sample first = model.sample();
            DashboardModel.Sample idle = model.sample();

            assertThat(first.full()).contains("\"cache\":null", "\"policies\":{\"d\":{\"rate_limit\":");
            assertThat(idle.delta()).contains("\"sections\":{}");
        } finally {
            runtime.stop(Duration.ZERO);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> sections(String full) {
        Map<String, Object> doc = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(full);
        return (Map<String, Object>) doc.get("sections");
    }

    private static Map<?, ?> cache(Map<String, Object> sections) {
        return (Map<?, ?>) ((Map<?, ?>) sections.get("cache")).get("all");
    }
}
