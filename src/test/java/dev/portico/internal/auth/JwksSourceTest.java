package dev.portico.internal.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import dev.portico.testing.AuthFixtures;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JWK set's lifecycle on a clock the test moves: refresh ahead of expiry, outages, refetch pacing. */
@Timeout(30)
class JwksSourceTest {
    private static final RSAKey K1 = AuthFixtures.rsa("k1");
    private static final RSAKey K2 = AuthFixtures.rsa("k2");

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final AtomicReference<String> answer = new AtomicReference<>(AuthFixtures.jwks(K1.toPublicJWK()));
    private final AtomicReference<String> cacheControl = new AtomicReference<>("max-age=100");
    private final AtomicInteger fetches = new AtomicInteger();
    private int base;
    private final TestBackend idp = TestBackend.start((req, ctx) -> {
        fetches.incrementAndGet();
        String body = answer.get();
        var r = TestBackend.text(body == null ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.OK,
                body == null ? "down" : body);
        if (cacheControl.get() != null) {
            r.headers().set("Cache-Control", cacheControl.get());
        }
        ctx.writeAndFlush(r);
    });

    @AfterEach
    void close() {
        idp.close();
    }

    private JwksSource source() {
        JwksSource s = new JwksSource(URI.create(idp.url() + "/jwks"), Duration.ofSeconds(10), clock::get);
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> s.keys().size() == 1);
        base = fetches.get(); // one, unless the first try timed out on a busy machine
        return s;
    }

    private void advance(Duration d) {
        clock.addAndGet(d.toNanos());
    }

    @Test
    void theSetIsRefreshedOnceEightyPercentOfItsMaxAgeHasPassed() {
        JwksSource s = source();
        long first = s.keys().generation();
        answer.set(AuthFixtures.jwks(K2.toPublicJWK()));
        advance(Duration.ofSeconds(79));
        assertThat(s.keys().verifiers("k1", "RS256")).hasSize(1);
        assertThat(fetches.get() - base).isEqualTo(0);
        advance(Duration.ofSeconds(2)); // 81 s of 100
        s.keys();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> s.keys().generation() != first);
        assertThat(s.keys().verifiers("k2", "RS256")).hasSize(1);
        assertThat(s.keys().verifiers("k1", "RS256")).isEmpty();
        assertThat(fetches.get() - base).isEqualTo(1);
    }

    @Test
    void keysAreKeptWhileTheIdentityProviderIsDownAndRenewedWhenItReturns() throws Exception {
        JwksSource s = source();
        answer.set(null);
        advance(Duration.ofSeconds(600));
        s.keys();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> fetches.get() - base == 1);
        assertThat(s.refetch()).as("a failed refresh counts against the refetch pace").isNull();
        Thread.sleep(200); // the failed attempt settles; nothing may change the keys
        assertThat(s.keys().verifiers("k1", "RS256")).hasSize(1);

        answer.set(AuthFixtures.jwks(K1.toPublicJWK(), K2.toPublicJWK()));
        advance(JwksSource.MISS_INTERVAL);
        assertThat(s.refetch().get(10, TimeUnit.SECONDS).verifiers("k2", "RS256")).hasSize(1);
        assertThat(s.keys().verifiers("k1", "RS256")).hasSize(1);
    }

    @Test
    void unknownKidsRefetchAtMostOncePerIntervalAndAMissingMaxAgeMeansFiveMinutes() throws Exception {
        cacheControl.set(null);
        JwksSource s = source();
        assertThat(s.refetch().get(10, TimeUnit.SECONDS).size()).isEqualTo(1);
        assertThat(s.refetch()).isNull();
        advance(JwksSource.MISS_INTERVAL.minusSeconds(1));
        assertThat(s.refetch()).isNull();
        advance(Duration.ofSeconds(1));
        assertThat(s.refetch()).isNotNull().succeedsWithin(Duration.ofSeconds(10));
        assertThat(fetches.get() - base).isEqualTo(2);

        advance(Duration.ofSeconds(239)); // just short of 80% of the default five minutes since the last fetch
        s.keys();
        assertThat(fetches.get() - base).isEqualTo(2);
        advance(Duration.ofSeconds(2));
        s.keys();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> fetches.get() - base == 3);
    }

    @Test
    void anOversizedAnswerIsRefusedAndTheKeysHeldAreKept() throws Exception {
        JwksSource s = source();
        answer.set("{\"keys\": [], \"pad\": \"" + "x".repeat(JwksFetch.MAX_BYTES) + "\"}");
        advance(JwksSource.MISS_INTERVAL);
        KeySet after = s.refetch().get(10, TimeUnit.SECONDS);
        assertThat(after.verifiers("k1", "RS256")).hasSize(1);
        assertThat(fetches.get() - base).isEqualTo(1);
    }

    @Test
    void theFirstFetchIsNotRepeatedByRequestsThatLookForTheirKeyAsItCompletes() throws Exception {
        // Requests that look for their key while the first fetch completes (the keys, then a refetch if the key is
        // missing, as the jwt policy does) must see either the fetch in flight or the keys it brought, never start
        // a second fetch because they looked just before it ended.
        for (int i = 0; i < 200; i++) {
            int before = fetches.get();
            JwksSource s = new JwksSource(URI.create(idp.url() + "/jwks"), Duration.ofSeconds(10), clock::get);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                KeySet seen = s.keys();
                if (!seen.verifiers("k1", "RS256").isEmpty()) {
                    break;
                }
                s.refetch(seen); // the fetch in flight, most of the time: looked at again at once, as many requests would
            }
            assertThat(s.keys().size()).isEqualTo(1);
            Thread.sleep(20); // a second fetch, had one started, reaches the identity provider meanwhile
            assertThat(fetches.get() - before).as("fetches for source %d", i).isEqualTo(1);
        }
    }
}
