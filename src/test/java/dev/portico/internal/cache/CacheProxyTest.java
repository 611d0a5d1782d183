package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.H2Client;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The cache policy through a running proxy: hits, misses, revalidation, Vary, coalescing, invalidation. */
@Timeout(30)
class CacheProxyTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestClock clock = new TestClock();
    private final AtomicInteger served = new AtomicInteger();
    private TestBackend backend;
    private CachePolicy cache;

    @AfterEach
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    private void start(CachePolicyConfig config, TestBackend.Script script) {
        backend = TestBackend.start(script);
        cache = new CachePolicy(config, clock);
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(2)
                .route("/", r -> r.upstream(backend.url()).policies(CustomPolicyConfig.of(cache))).build());
    }

    private void start(TestBackend.Script script) {
        start(CachePolicyConfig.defaults(), script);
    }

    /** A backend that answers every request with a numbered body and the given field pairs. */
    private TestBackend.Script numbered(String... fields) {
        return (req, ctx) -> {
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "body " + served.incrementAndGet());
            for (int i = 0; i < fields.length; i += 2) {
                r.headers().add(fields[i], fields[i + 1]);
            }
            ctx.writeAndFlush(r);
        };
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return portico.send(b.build());
    }

    @Test
    void aSecondRequestIsAHitWithItsAgeAndTheBackendSeesOne() throws Exception {
        start(numbered("Cache-Control", "max-age=60"));
        HttpResponse<String> miss = get("/a");
        clock.advanceSeconds(5);
        HttpResponse<String> hit = get("/a");

        assertThat(miss.body()).isEqualTo("body 1");
        assertThat(miss.headers().firstValue("cache-status")).hasValue("portico; fwd=uri-miss; stored");
        assertThat(hit.body()).isEqualTo("body 1");
        assertThat(hit.headers().firstValue("cache-status")).hasValue("portico; hit");
        assertThat(hit.headers().firstValue("age")).hasValue("5");
        assertThat(served).hasValue(1);
        assertThat(cache.stats().hits()).isEqualTo(1);
        assertThat(cache.stats().misses()).isEqualTo(1);
    }

    @Test
    void anEntryStoredOverHttp11IsAHitOverHttp2() throws Exception {
        start(numbered("Cache-Control", "max-age=60"));
        get("/both");
        H2Client.Result hit;
        try (H2Client c = H2Client.connect(portico.port())) {
            hit = c.get("/both").get(10, TimeUnit.SECONDS);
        }

        assertThat(hit.status()).isEqualTo(200);
        assertThat(hit.bodyStart()).isEqualTo("body 1");
        assertThat(hit.headers().get("cache-status")).isEqualTo("portico; hit");
        assertThat(served).hasValue(1);
    }

    @Test
    void aStaleEntryIsRevalidatedAndA304FreshensIt() throws Exception {
        List<String> validators = new ArrayList<>();
        start((req, ctx) -> {
            String inm = req.headers().get("If-None-Match");
            validators.add(String.valueOf(inm));
            FullHttpResponse r = "\"v1\"".equals(inm) ? TestBackend.text(HttpResponseStatus.NOT_MODIFIED, "")
                    : TestBackend.text(HttpResponseStatus.OK, "version one");
            r.headers().set("ETag", "\"v1\"").set("Cache-Control", "max-age=10");
            if (r.status().code() == 304) {
                r.headers().remove("content-length");
                r.headers().set("X-Refreshed", "yes");
            }
            ctx.writeAndFlush(r);
        });
        get("/doc");
        clock.advanceSeconds(11);
        HttpResponse<String> revalidated = get("/doc");
        HttpResponse<String> hit = get("/doc");

        assertThat(validators).containsExactly("null", "\"v1\"");
        assertThat(revalidated.statusCode()).isEqualTo(200);
        assertThat(revalidated.body()).isEqualTo("version one");
        assertThat(revalidated.headers().firstValue("cache-status")).hasValue("portico; fwd=stale; fwd-status=304");
        assertThat(revalidated.headers().firstValue("x-refreshed")).hasValue("yes");
        assertThat(hit.headers().firstValue("cache-status")).hasValue("portico; hit");
        assertThat(hit.body()).isEqualTo("version one");
    }

    @Test
    void theClientsOwnConditionalAndRangeAndHeadAreAnsweredFromTheStore() throws Exception {
        start(numbered("Cache-Control", "max-age=60", "ETag", "\"e\""));
        get("/r");
        HttpResponse<String> notModified = get("/r", "If-None-Match", "\"e\"");
        HttpResponse<String> partial = get("/r", "Range", "bytes=0-3");
        HttpResponse<String> head = portico.send(HttpRequest.newBuilder(portico.uri("/r"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());

        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(partial.statusCode()).isEqualTo(206);
        assertThat(partial.body()).isEqualTo("body");
        assertThat(partial.headers().firstValue("content-range")).hasValue("bytes 0-3/6");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("content-length")).hasValue("6");
        assertThat(head.headers().firstValue("cache-status")).hasValue("portico; hit");
        assertThat(served).hasValue(1);
    }

    @Test
    void varyKeepsOneVariantPerRequestValue() throws Exception {
        start((req, ctx) -> {
            served.incrementAndGet();
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "lang " + req.headers().get("Accept-Language"));
            r.headers().set("Cache-Control", "max-age=60").set("Vary", "Accept-Language");
            ctx.writeAndFlush(r);
        });
        assertThat(get("/v", "Accept-Language", "en").body()).isEqualTo("lang en");
        HttpResponse<String> fr = get("/v", "Accept-Language", "fr");
        HttpResponse<String> enAgain = get("/v", "Accept-Language", "en");

        assertThat(fr.body()).isEqualTo("lang fr");
        assertThat(fr.headers().firstValue("cache-status")).hasValue("portico; fwd=vary-miss; stored");
        assertThat(enAgain.body()).isEqualTo("lang en");
        assertThat(enAgain.headers().firstValue("cache-status")).hasValue("portico; hit");
        assertThat(served).hasValue(2);
    }

    @Test
    void concurrentMissesMakeOneBackendRequest() throws Exception {
        int clients = 8;
        start((req, ctx) -> {
            served.incrementAndGet();
            // Held until every other client waits on the fill, so the misses are truly concurrent.
            await().atMost(Duration.ofSeconds(10)).until(() -> cache.store.waiting(key("/hot")) == clients - 1);
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "hot");
            r.headers().set("Cache-Control", "max-age=60");
            ctx.writeAndFlush(r);
        });
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(portico.uri("/hot")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("hot");
        }
        assertThat(served).hasValue(1);
        assertThat(cache.stats().hits()).isEqualTo(clients - 1);
    }

    @Test
    void concurrentRequestsForAnExpiredEntryMakeOneRevalidation() throws Exception {
        int clients = 6;
        AtomicInteger revalidations = new AtomicInteger();
        start((req, ctx) -> {
            FullHttpResponse r;
            if (req.headers().contains("If-None-Match")) {
                revalidations.incrementAndGet();
                await().atMost(Duration.ofSeconds(10)).until(() -> cache.store.waiting(key("/pop")) == clients - 1);
                r = TestBackend.text(HttpResponseStatus.NOT_MODIFIED, "");
                r.headers().remove("content-length");
            } else {
                r = TestBackend.text(HttpResponseStatus.OK, "popular");
            }
            r.headers().set("ETag", "\"p\"").set("Cache-Control", "max-age=10");
            ctx.writeAndFlush(r);
        });
        get("/pop");
        clock.advanceSeconds(20);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(portico.uri("/pop")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertThat(f.get(20, TimeUnit.SECONDS).body()).isEqualTo("popular");
        }
        assertThat(revalidations).hasValue(1);
    }

    @Test
    void anUnsafeMethodInvalidatesTheUriAndItsLocation() throws Exception {
        start((req, ctx) -> {
            served.incrementAndGet();
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, req.method() + " " + served.get());
            r.headers().set("Cache-Control", "max-age=60");
            if (req.method().name().equals("POST")) {
                r.headers().set("Location", "/other");
            }
            ctx.writeAndFlush(r);
        });
        get("/item");
        get("/other");
        portico.send(HttpRequest.newBuilder(portico.uri("/item")).POST(HttpRequest.BodyPublishers.ofString("x"))
                .build());
        HttpResponse<String> item = get("/item");
        HttpResponse<String> other = get("/other");

        assertThat(item.headers().firstValue("cache-status")).hasValue("portico; fwd=uri-miss; stored");
        assertThat(other.headers().firstValue("cache-status")).hasValue("portico; fwd=uri-miss; stored");
        assertThat(served).hasValue(5);
    }

    @Test
    void aStaleEntryStandsInForABackendErrorWithinStaleIfErrorButNotBeyond() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean();
        start((req, ctx) -> {
            served.incrementAndGet();
            FullHttpResponse r = failing.get() ? TestBackend.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "down")
                    : TestBackend.text(HttpResponseStatus.OK, "good");
            r.headers().set("Cache-Control", "max-age=10, stale-if-error=60");
            ctx.writeAndFlush(r);
        });
        get("/e");
        failing.set(true);
        clock.advanceSeconds(30);
        HttpResponse<String> rescued = get("/e");
        clock.advanceSeconds(60);
        HttpResponse<String> tooOld = get("/e");

        assertThat(rescued.statusCode()).isEqualTo(200);
        assertThat(rescued.body()).isEqualTo("good");
        assertThat(rescued.headers().firstValue("cache-status"))
                .hasValue("portico; fwd=stale; fwd-status=503; detail=stale-if-error");
        assertThat(tooOld.statusCode()).isEqualTo(503);
        assertThat(cache.stats().staleServed()).isEqualTo(1);
    }

    @Test
    void requestDirectivesNoCacheAndOnlyIfCached() throws Exception {
        start(numbered("Cache-Control", "max-age=60"));
        HttpResponse<String> nothing = get("/d", "Cache-Control", "only-if-cached");
        get("/d");
        HttpResponse<String> forced = get("/d", "Cache-Control", "no-cache");

        assertThat(nothing.statusCode()).isEqualTo(504);
        assertThat(forced.body()).isEqualTo("body 2");
        assertThat(forced.headers().firstValue("cache-status")).hasValue("portico; fwd=request; stored");
        assertThat(get("/d", "Cache-Control", "only-if-cached").body()).isEqualTo("body 2");
    }

    static String key(String path) {
        return CachePolicy.key("http", "127.0.0.1", path);
    }

    static URI uri(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }
}
