package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The store's byte bound, its least-recently-used order and its variants. */
class CacheStoreTest {
    private static final int BODY = 1000;

    private static Entry entry(String path, Map<String, String> vary) {
        DefaultHttpHeaders h = new DefaultHttpHeaders();
        h.set("cache-control", "max-age=60");
        return new Entry(CachePolicy.key("http", "h", path), "h", path, vary, 200, h,
                new byte[][] {new byte[BODY]}, BODY, 0, 0, true);
    }

    @Test
    void theLeastRecentlyUsedUrlGoesFirstWhenTheBoundIsCrossed() {
        long one = entry("/a", Map.of()).size;
        CacheStore store = new CacheStore(3 * one + one / 2);
        store.put(entry("/a", Map.of()));
        store.put(entry("/b", Map.of()));
        store.put(entry("/c", Map.of()));
        store.get(CachePolicy.key("http", "h", "/a")); // /a is used: /b is now the oldest
        store.put(entry("/d", Map.of()));

        assertThat(store.get(CachePolicy.key("http", "h", "/b"))).isEmpty();
        assertThat(store.get(CachePolicy.key("http", "h", "/a"))).hasSize(1);
        assertThat(store.bytes()).isEqualTo(3 * one).isLessThanOrEqualTo(3 * one + one / 2);
        assertThat(store.evictions.sum()).isEqualTo(1);
        assertThat(store.size()).as("entries, kept as the store changes").isEqualTo(3);
    }

    @Test
    void variantsLiveSideBySideAndAVariantIsReplacedByItsNewerSelf() {
        CacheStore store = new CacheStore(1 << 20);
        store.put(entry("/v", Map.of("accept-language", "en")));
        store.put(entry("/v", Map.of("accept-language", "fr")));
        store.put(entry("/v", Map.of("accept-language", "en")));

        assertThat(store.get(CachePolicy.key("http", "h", "/v"))).hasSize(2);
        assertThat(store.size()).isEqualTo(2);
        assertThat(store.remove(CachePolicy.key("http", "h", "/v"))).isEqualTo(2);
        assertThat(store.bytes()).isZero();
        assertThat(store.size()).isZero();
    }

    @Test
    void purgeMatchesHostAndPathPrefix() {
        CacheStore store = new CacheStore(1 << 20);
        store.put(entry("/img/1", Map.of()));
        store.put(entry("/img/2", Map.of()));
        store.put(entry("/css/1", Map.of()));

        assertThat(store.purge((host, path) -> host.equals("h") && path.startsWith("/img/"))).isEqualTo(2);
        assertThat(store.size()).isEqualTo(1);
    }
}
