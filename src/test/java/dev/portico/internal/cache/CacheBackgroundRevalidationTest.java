package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code stale-while-revalidate} through a running proxy: the stale entry answers at once and one conditional
 * request of the cache's own, tied to no client, revalidates it in the background.
 */
@Timeout(30)
class CacheBackgroundRevalidationTest {
    private static final String SWR = "max-age=1, stale-while-revalidate=30";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestClock clock = new TestClock();
    /** Opened by the test to let the backend send its answer to a conditional request. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger conditionals = new AtomicInteger();
    private TestBackend backend;
    private CachePolicy cache;

    @AfterEach
    void closeBackend() {
        release.countDown();
        if (backend != null) {
            backend.close();
        }
    }

    /**
     * Starts a backend that answers an unconditional request with version one (ETag {@code "v1"}, varying on
     * {@code Accept-Language}) and a conditional one, once the test releases it, with what {@code conditional} makes.
     */
    private void start(Function<FullHttpRequest, FullHttpResponse> conditional) {
        start(CachePolicyConfig.defaults(), conditional);
    }

    private void start(CachePolicyConfig config, Function<FullHttpRequest, FullHttpResponse> conditional) {
        start(config, Duration.ofSeconds(60), conditional);
    }

    /** As above; a {@code null} from {@code conditional} closes the connection instead of answering. */
    private void start(CachePolicyConfig config, Duration responseTimeout,
                       Function<FullHttpRequest, FullHttpResponse> conditional) {
        backend = TestBackend.start((req, ctx) -> {
            if (!req.headers().contains("If-None-Match")) {
                FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "version one");
                r.headers().set("ETag", "\"v1\"").set("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT")
                        .set("Cache-Control", SWR).set("Vary", "Accept-Language");
                ctx.writeAndFlush(r);
                return;
            }
            conditionals.incrementAndGet();
            FullHttpResponse r = conditional.apply(req);
            if (r == null) {
                ctx.close();
            } else {
                answerWhenReleased(ctx, r);
            }
        });
        cache = new CachePolicy(config, clock);
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(2)
                .timeouts(t -> t.response(responseTimeout))
                .route("/", r -> r.upstream(backend.url()).policies(CustomPolicyConfig.of(cache))).build());
    }

    /** Holds the answer on a thread of its own until the test releases it (the backend's loop stays free). */
    private void answerWhenReleased(ChannelHandlerContext ctx, FullHttpResponse r) {
        new Thread(() -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ctx.writeAndFlush(r);
        }).start();
    }

    private static FullHttpResponse notModified() {
        FullHttpResponse r = TestBackend.text(HttpResponseStatus.NOT_MODIFIED, "");
        r.headers().remove("content-length");
        r.headers().set("ETag", "\"v1\"").set("Cache-Control", SWR).set("X-Refreshed", "yes");
        return r;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return portico.send(HttpRequest.newBuilder(portico.uri(path)).header("Accept-Language", "en")
                .timeout(Duration.ofSeconds(10)).build());
    }

    /** Stores version one, and lets it grow 6 s old (5 s stale): within its stale-while-revalidate. */
    private void storeAndAge(String path) throws Exception {
        assertThat(get(path).headers().firstValue("cache-status")).hasValue("portico; fwd=uri-miss; stored");
        backend.take();
        clock.advanceSeconds(6);
    }

    private void awaitRevalidationEnd(String path) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !cache.store.filling(CacheProxyTest.key(path)));
    }

    @Test
    void theStaleEntryAnswersAtOnceAndOneConditionalRequestFreshensItInTheBackground() throws Exception {
        start(req -> notModified());
        storeAndAge("/doc");

        // Answered although the backend holds its 304 until it is released, after this answer arrived.
        HttpResponse<String> stale = get("/doc");
        TestBackend.Received revalidation = backend.take();
        release.countDown();
        awaitRevalidationEnd("/doc");
        HttpResponse<String> fresh = get("/doc");

        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("version one");
        assertThat(stale.headers().firstValue("cache-status")).hasValue("portico; hit; detail=stale-while-revalidate");
        assertThat(stale.headers().firstValue("age")).hasValue("6");
        assertThat(revalidation.method()).isEqualTo("GET");
        assertThat(revalidation.uri()).isEqualTo("/doc");
        assertThat(revalidation.headers().get("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(revalidation.headers().get("If-Modified-Since")).isEqualTo("Tue, 01 Dec 2026 10:00:00 GMT");
        assertThat(revalidation.headers().get("Accept-Language")).isEqualTo("en");
        assertThat(fresh.headers().firstValue("cache-status")).hasValue("portico; hit");
        assertThat(fresh.headers().firstValue("x-refreshed")).hasValue("yes");
        assertThat(fresh.headers().firstValue("age")).hasValue("0");
        assertThat(fresh.body()).isEqualTo("version one");
        assertThat(conditionals).hasValue(1);
        assertThat(backend.pending()).isZero();
        assertThat(cache.stats().backgroundRevalidations()).isEqualTo(1);
        assertThat(cache.stats().backgroundFailures()).isZero();
    }

    @Test
    void aNewResponseFromTheBackgroundRevalidationReplacesTheEntry() throws Exception {
        start(req -> {
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "version two");
            r.headers().set("ETag", "\"v2\"").set("Cache-Control", SWR).set("Vary", "Accept-Language");
            return r;
        });
        storeAndAge("/doc");

        HttpResponse<String> stale = get("/doc");
        release.countDown();
        awaitRevalidationEnd("/doc");
        HttpResponse<String> replaced = get("/doc");

        assertThat(stale.body()).isEqualTo("version one");
        assertThat(stale.headers().firstValue("cache-status")).hasValue("portico; hit; detail=stale-while-revalidate");
        assertThat(replaced.body()).isEqualTo("version two");
        assertThat(replaced.headers().firstValue("etag")).hasValue("\"v2\"");
        assertThat(replaced.headers().firstValue("cache-status")).hasValue("portico; hit");
        assertThat(conditionals).hasValue(1);
        assertThat(cache.stats().entries()).isEqualTo(1);
    }

    @Test
    void aBackendErrorLeavesTheStaleEntryServedWithinTheWindow() throws Exception {
        start(req -> TestBackend.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "down"));
        storeAndAge("/doc");

        HttpResponse<String> first = get("/doc");
        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.stats().backgroundFailures() == 1);
        awaitRevalidationEnd("/doc");
        clock.advanceSeconds(10);
        HttpResponse<String> later = get("/doc");

        assertThat(first.body()).isEqualTo("version one");
        assertThat(later.statusCode()).isEqualTo(200);
        assertThat(later.body()).isEqualTo("version one");
        assertThat(later.headers().firstValue("cache-status")).hasValue("portico; hit; detail=stale-while-revalidate");
        assertThat(later.headers().firstValue("age")).hasValue("16");
    }

    @Test
    void aBackendThatNeverAnswersTimesOutAndLeavesTheStaleEntry() throws Exception {
        start(CachePolicyConfig.defaults(), Duration.ofSeconds(1), req -> notModified()); // the 304 is never released
        storeAndAge("/doc");

        HttpResponse<String> stale = get("/doc");
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.stats().backgroundFailures() == 1);
        awaitRevalidationEnd("/doc");
        HttpResponse<String> again = get("/doc");

        assertThat(stale.body()).isEqualTo("version one");
        assertThat(again.body()).isEqualTo("version one");
        assertThat(again.headers().firstValue("cache-status")).hasValue("portico; hit; detail=stale-while-revalidate");
        assertThat(conditionals).hasValueGreaterThanOrEqualTo(1);
    }

    @Test
    void aBackendThatDropsTheConnectionLeavesTheStaleEntryAfterOneRetryOnANewConnection() throws Exception {
        start(req -> null);
        storeAndAge("/doc");

        HttpResponse<String> stale = get("/doc");
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.stats().backgroundFailures() == 1);
        awaitRevalidationEnd("/doc");

        assertThat(stale.body()).isEqualTo("version one");
        // The pooled connection the backend dropped may have been a keep-alive race: one more try on a new one,
        // and no other.
        assertThat(conditionals).hasValue(2);
        assertThat(cache.stats().backgroundRevalidations()).isEqualTo(1);
        assertThat(cache.store.get(CacheProxyTest.key("/doc"))).hasSize(1);
    }

    @Test
    void beyondTheWindowTheRequestWaitsForTheBackendItself() throws Exception {
        start(req -> notModified());
        storeAndAge("/doc");
        clock.advanceSeconds(40); // 46 s stale: past max-age=1 plus stale-while-revalidate=30
        release.countDown();

        HttpResponse<String> revalidated = get("/doc");

        assertThat(revalidated.body()).isEqualTo("version one");
        assertThat(revalidated.headers().firstValue("cache-status")).hasValue("portico; fwd=stale; fwd-status=304");
        assertThat(revalidated.headers().firstValue("x-refreshed")).hasValue("yes");
        assertThat(conditionals).hasValue(1);
        assertThat(cache.stats().backgroundRevalidations()).isZero();
    }

    @Test
    void manyConcurrentRequestsMakeOneBackgroundRevalidation() throws Exception {
        int clients = 12;
        start(req -> notModified());
        storeAndAge("/pop");

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(portico.uri("/pop")).header("Accept-Language", "en")
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<String> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(20, TimeUnit.SECONDS); // all answered while the 304 is held
            assertThat(r.body()).isEqualTo("version one");
            statuses.add(r.headers().firstValue("cache-status").orElse(""));
        }
        release.countDown();
        awaitRevalidationEnd("/pop");

        assertThat(statuses).containsOnly("portico; hit; detail=stale-while-revalidate");
        assertThat(conditionals).hasValue(1);
        assertThat(cache.stats().backgroundRevalidations()).isEqualTo(1);
        assertThat(get("/pop").headers().firstValue("cache-status")).hasValue("portico; hit");
    }

    @Test
    void aReplacementOverMaxObjectSizeIsCutOffAndTheOutdatedEntryRemoved() throws Exception {
        start(CachePolicyConfig.builder().maxObjectSize(1024).build(), req -> {
            FullHttpResponse r = TestBackend.text(HttpResponseStatus.OK, "x".repeat(64 * 1024));
            r.headers().remove("content-length").set("Transfer-Encoding", "chunked"); // known only as it streams
            r.headers().set("ETag", "\"v2\"").set("Cache-Control", SWR);
            return r;
        });
        storeAndAge("/big");

        HttpResponse<String> stale = get("/big");
        backend.take();
        release.countDown();
        awaitRevalidationEnd("/big");
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.stats().entries() == 0);
        HttpResponse<String> afterwards = get("/big");

        assertThat(stale.body()).isEqualTo("version one");
        assertThat(afterwards.body()).isEqualTo("version one");
        assertThat(afterwards.headers().firstValue("cache-status")).hasValue("portico; fwd=uri-miss; stored");
        assertThat(cache.stats().backgroundFailures()).isZero();
    }

    @Test
    void withCoalesceOffTheStaleEntryStillAnswersAtOnceAndOneRevalidationRuns() throws Exception {
        start(CachePolicyConfig.builder().coalesce(false).build(), req -> notModified());
        storeAndAge("/solo");

        HttpResponse<String> first = get("/solo");
        HttpResponse<String> second = get("/solo");
        release.countDown();
        awaitRevalidationEnd("/solo");

        assertThat(first.headers().firstValue("cache-status")).hasValue("portico; hit; detail=stale-while-revalidate");
        assertThat(second.headers().firstValue("cache-status")).hasValue("portico; hit; detail=stale-while-revalidate");
        assertThat(conditionals).hasValue(1);
        assertThat(get("/solo").headers().firstValue("cache-status")).hasValue("portico; hit");
    }
}
