package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CachePolicyConfig;
import dev.portico.config.CompressPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.Decoding;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TextBody;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code [compress, cache]} on one route: the cache stores what the backend sent, and each client gets the encoding
 * it asked for, from the backend's response and from the stored one alike.
 */
@Timeout(30)
class CompressCacheTest {
    private static final byte[] TEXT = TextBody.of(3, 20_000);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final AtomicInteger backendRequests = new AtomicInteger();
    private final TestBackend backend = TestBackend.start((req, ctx) -> {
        backendRequests.incrementAndGet();
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(TEXT));
        r.headers().set("Content-Type", "text/plain").set("Cache-Control", "max-age=60")
                .set("ETag", "\"v1\"").setInt("Content-Length", TEXT.length);
        ctx.writeAndFlush(r);
    });

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    @Test
    void cacheHitsAreEncodedPerClientFromTheIdentityBodyTheBackendSent() throws Exception {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, false)).workers(1)
                .route("/", r -> r.upstream(backend.url())
                        .policies(CompressPolicyConfig.defaults(), CachePolicyConfig.defaults()))
                .build());

        RawClient.Response miss = get("Accept-Encoding: gzip");
        RawClient.Response gzipHit = get("Accept-Encoding: gzip");
        RawClient.Response zstdHit = get("Accept-Encoding: zstd");
        RawClient.Response plainHit = get();

        assertThat(backendRequests).hasValue(1);
        assertThat(miss.header("cache-status")).contains("fwd=uri-miss");
        assertThat(miss.header("content-encoding")).isEqualTo("gzip");
        assertThat(Decoding.decode("gzip", bytes(miss))).isEqualTo(TEXT);
        assertThat(miss.header("etag")).isEqualTo("W/\"v1\"");

        assertThat(gzipHit.header("cache-status")).contains("hit");
        assertThat(gzipHit.header("content-encoding")).isEqualTo("gzip");
        assertThat(gzipHit.header("vary")).containsIgnoringCase("accept-encoding");
        assertThat(Decoding.decode("gzip", bytes(gzipHit))).isEqualTo(TEXT);

        assertThat(zstdHit.header("cache-status")).contains("hit");
        assertThat(zstdHit.header("content-encoding")).isEqualTo("zstd");
        assertThat(Decoding.decode("zstd", bytes(zstdHit))).isEqualTo(TEXT);

        assertThat(plainHit.header("cache-status")).contains("hit");
        assertThat(plainHit.header("content-encoding")).isNull();
        assertThat(plainHit.header("etag")).isEqualTo("\"v1\"");
        assertThat(bytes(plainHit)).isEqualTo(TEXT);
    }

    private RawClient.Response get(String... fields) throws Exception {
        StringBuilder head = new StringBuilder("GET /doc HTTP/1.1\r\nHost: h\r\n");
        for (String f : fields) {
            head.append(f).append("\r\n");
        }
        try (RawClient c = portico.raw()) {
            c.socket().setSoTimeout(10_000);
            return c.send(head.append("\r\n").toString()).read(false);
        }
    }

    private static byte[] bytes(RawClient.Response r) {
        return r.body().getBytes(StandardCharsets.ISO_8859_1);
    }
}
