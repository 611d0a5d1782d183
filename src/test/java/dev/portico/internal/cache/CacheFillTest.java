package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The streaming fill: bytes reach the first client as they arrive; limits and departures do not break it. */
@Timeout(30)
class CacheFillTest {
    private static final int PART = 32 * 1024;

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final AtomicInteger served = new AtomicInteger();
    private final AtomicReference<ChannelHandlerContext> held = new AtomicReference<>();
    private TestBackend backend;
    private CachePolicy cache;

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private void start(CachePolicyConfig config, TestBackend.Script script) {
        backend = TestBackend.start(script);
        cache = new CachePolicy(config);
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(2)
                .route("/", r -> r.upstream(backend.url()).policies(CustomPolicyConfig.of(cache))).build());
    }

    /** Sends a chunked, cacheable head and {@code parts} parts of {@code PART} bytes filled with 'a' + part. */
    private static void chunked(ChannelHandlerContext ctx, int parts, boolean finish) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set("Cache-Control", "max-age=60");
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.write(head);
        for (int i = 0; i < parts; i++) {
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(filled(i))));
        }
        if (finish) {
            ctx.write(new DefaultLastHttpContent());
        }
        ctx.flush();
    }

    private static byte[] filled(int part) {
        byte[] b = new byte[PART];
        Arrays.fill(b, (byte) ('a' + part));
        return b;
    }

    @Test
    void aBodyCrossingMaxObjectSizeReachesTheClientWholeAndIsNotStored() throws Exception {
        start(CachePolicyConfig.builder().maxObjectSize(64 * 1024).build(), (req, ctx) -> {
            served.incrementAndGet();
            chunked(ctx, 4, true); // 128 KiB without Content-Length: the limit is found mid-stream
        });
        HttpClient client = portico.client();
        byte[] first = client.send(HttpRequest.newBuilder(portico.uri("/big")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body();
        byte[] second = client.send(HttpRequest.newBuilder(portico.uri("/big")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body();

        assertThat(first).hasSize(4 * PART);
        assertThat(first[4 * PART - 1]).isEqualTo((byte) 'd');
        assertThat(second).hasSize(4 * PART);
        assertThat(served).hasValue(2);
        assertThat(cache.stats().entries()).isZero();
        assertThat(cache.stats().bytes()).isZero();
    }

    @Test
    void theFirstClientStreamsAndItsDepartureDoesNotAbortTheFillAWaiterNeeds() throws Exception {
        start(CachePolicyConfig.defaults(), (req, ctx) -> {
            served.incrementAndGet();
            held.set(ctx);
            chunked(ctx, 1, false); // the rest comes when the test says
        });
        String key = CacheProxyTest.key("/slow");
        CompletableFuture<java.net.http.HttpResponse<byte[]>> waiter;
        try (Socket first = new Socket("127.0.0.1", portico.port())) {
            first.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            // The first part arrives while the backend still holds the rest: the fill streams.
            assertThat(readUntil(first.getInputStream(), "aaaa")).contains("200 OK");
            waiter = portico.client().sendAsync(HttpRequest.newBuilder(portico.uri("/slow")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            await().atMost(Duration.ofSeconds(10)).until(() -> cache.store.waiting(key) == 1);
        } // the first client leaves mid-body
        ChannelHandlerContext ctx = held.get();
        ctx.executor().execute(() -> { // 2 MiB more: many reads with nobody but the fill to read them
            for (int i = 0; i < 64; i++) {
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(filled(1))));
            }
            ctx.writeAndFlush(new DefaultLastHttpContent());
        });
        java.net.http.HttpResponse<byte[]> r = waiter.get(15, TimeUnit.SECONDS);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).hasSize(65 * PART);
        assertThat(r.headers().firstValue("cache-status")).hasValue("portico; hit; detail=collapsed");
        assertThat(served).hasValue(1);
        assertThat(cache.stats().entries()).isEqualTo(1);
    }

    private static String readUntil(InputStream in, String marker) throws Exception {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[8192];
        while (sb.indexOf(marker) < 0) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
        return sb.toString();
    }
}
