package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.AccessLogConfig;
import dev.portico.config.CachePolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.OperationsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.policy.PolicyRegistry;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cache's operations side: purges on the admin endpoint, meters, the access log field, reloads. */
@Timeout(30)
class CacheOperationsTest {
    private static final OperationsConfig ADMIN = new OperationsConfig(new ListenAddress("127.0.0.1", 0), true,
            OperationsConfig.DEFAULT_REQUEST_ID_HEADER, false, false);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final AtomicInteger served = new AtomicInteger();
    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        served.incrementAndGet();
        FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "ok");
        r.headers().set("Cache-Control", "max-age=60");
        ctx.writeAndFlush(r);
    });

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private void start() {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .accessLog(new AccessLogConfig(true, AccessLogConfig.Format.JSON, AccessLogConfig.STDOUT))
                .operations(ADMIN)
                .route("/", r -> r.upstream(backend.url()).policies(CachePolicyConfig.defaults())).build());
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        URI u = URI.create("http://127.0.0.1:" + portico.proxy().adminAddress().getPort() + path);
        return portico.send(HttpRequest.newBuilder(u).method(method, HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    private String status(String path) throws Exception {
        return portico.get(path).headers().firstValue("cache-status").orElse("");
    }

    @Test
    void purgeByHostAndPrefixOrByUrlSaysHowManyEntriesWent() throws Exception {
        start();
        for (String p : new String[] {"/p/a", "/p/b", "/q"}) {
            portico.get(p);
        }
        HttpResponse<String> byPrefix = admin("POST", "/cache/purge",
                "{\"host\": \"127.0.0.1\", \"path_prefix\": \"/p/\"}");
        HttpResponse<String> byUrl = admin("POST", "/cache/purge", "{\"url\": \"http://127.0.0.1/q\"}");
        HttpResponse<String> bad = admin("POST", "/cache/purge", "[1, 2]");
        HttpResponse<String> get = admin("GET", "/cache/purge", "");

        assertThat(byPrefix.statusCode()).isEqualTo(200);
        assertThat(byPrefix.body()).isEqualTo("{\"purged\":2}\n");
        assertThat(byUrl.body()).isEqualTo("{\"purged\":1}\n");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(status("/p/a")).startsWith("portico; fwd=uri-miss");
        assertThat(served).hasValue(4);
    }

    @Test
    void metersCountHitsMissesAndBytesAndTheAccessLogNamesTheOutcome() throws Exception {
        start();
        try (AccessLogCapture log = new AccessLogCapture()) {
            portico.get("/m");
            portico.get("/m");
            await().atMost(Duration.ofSeconds(5)).until(() -> log.find("\"cache\":\"hit\"") != null);
            assertThat(log.find("fwd=uri-miss")).contains("\"cache\":\"fwd=uri-miss; stored\"");
        }
        String metrics = admin("GET", "/metrics", "").body();

        assertThat(metric(metrics, "portico_cache_hits_total")).isEqualTo(1.0);
        assertThat(metric(metrics, "portico_cache_misses_total")).isEqualTo(1.0);
        assertThat(metric(metrics, "portico_cache_stored_bytes")).isGreaterThan(2.0);
        assertThat(metric(metrics, "portico_cache_entries")).isEqualTo(1.0);
        assertThat(metric(metrics, "portico_cache_revalidations_background_total")).isZero();
        assertThat(metric(metrics, "portico_cache_revalidations_background_failed_total")).isZero();
    }

    private static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? (\\S+)$").matcher(text);
        assertThat(m.find()).as(name + " in " + text).isTrue();
        return Double.parseDouble(m.group(2));
    }

    @Test
    void aReloadKeepsTheStoreWhenTheSettingsAreUnchangedAndDropsItOtherwise() {
        ProxyConfig one = config(CachePolicyConfig.defaults(), "/a");
        ProxyConfig same = config(CachePolicyConfig.defaults(), "/b");
        ProxyConfig changed = config(CachePolicyConfig.builder().maxSize(1 << 20).maxObjectSize(1024).build(), "/b");
        PolicyRegistry first = PolicyRegistry.empty().next(one);
        PolicyRegistry second = first.next(same);
        PolicyRegistry third = second.next(changed);

        assertThat(second.caches()).hasSize(1);
        assertThat(second.caches().get(0)).isSameAs(first.caches().get(0));
        assertThat(third.caches().get(0)).isNotSameAs(first.caches().get(0));
    }

    private static ProxyConfig config(CachePolicyConfig cache, String path) {
        return ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true))
                .route(path, r -> r.upstream("http://127.0.0.1:1").policies(cache)).build();
    }
}
