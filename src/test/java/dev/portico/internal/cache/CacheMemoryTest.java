package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The store stays within max_size however much passes through: 10,000 distinct 100 KiB responses, 64 MiB. */
@Timeout(300)
class CacheMemoryTest {
    private static final Logger LOG = LoggerFactory.getLogger(CacheMemoryTest.class);
    private static final int RESPONSES = 10_000;
    private static final int SIZE = 100 * 1024;
    private static final long MAX = 64L << 20;
    private static final byte[] BODY = new byte[SIZE];

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(BODY));
        r.headers().set("Cache-Control", "max-age=3600").setInt("Content-Length", SIZE);
        ctx.writeAndFlush(r);
    });

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    @Test
    void storeBytesStayWithinMaxSizeAcrossTenThousandDistinctResponses() throws Exception {
        CachePolicy cache = new CachePolicy(CachePolicyConfig.builder().maxSize(MAX).build());
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(2)
                .accessLog(a -> a.enabled(false))
                .route("/", r -> r.upstream(backend.url()).policies(CustomPolicyConfig.of(cache))).build());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        AtomicLong highest = new AtomicLong();
        AtomicLong received = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t;
                tasks.add(pool.submit(() -> {
                    for (int i = first; i < RESPONSES; i += 4) {
                        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(portico.uri("/obj/" + i))
                                .build(), HttpResponse.BodyHandlers.ofByteArray());
                        assertThat(r.body()).hasSize(SIZE);
                        received.addAndGet(r.body().length);
                        highest.accumulateAndGet(cache.stats().bytes(), Math::max);
                    }
                    return null;
                }));
            }
            for (Future<?> f : tasks) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        CacheStats s = cache.stats();
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        LOG.info("cache memory: {} responses, {} MiB through, store {} bytes in {} entries (highest seen {}), "
                + "{} evictions, heap used after GC {} MiB, RSS {}", RESPONSES, received.get() >> 20, s.bytes(),
                s.entries(), highest.get(), s.evictions(), heap >> 20, rss());

        assertThat(received.get()).isEqualTo((long) RESPONSES * SIZE);
        assertThat(highest.get()).isLessThanOrEqualTo(MAX);
        assertThat(s.bytes()).isLessThanOrEqualTo(MAX).isGreaterThan(MAX - 2 * SIZE);
        assertThat(s.entries()).isLessThan(MAX / SIZE + 1);
        assertThat(s.evictions()).isEqualTo(RESPONSES - s.entries());
        assertThat(s.misses()).isEqualTo(RESPONSES);
    }

    private static String rss() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS"))
                    .map(l -> l.substring(6).trim()).findFirst().orElse("unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
