package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ForwardAuthPolicyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code forward_auth} with {@code cache}: a 2xx decision is reused, with its fields, for requests the auth service
 * would see identically, until it expires; denials and answers marked {@code no-store} are never reused.
 */
@Timeout(30)
class ForwardAuthCachingTest {
    private static final Duration TTL = Duration.ofMillis(800);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.echo();
    private final AtomicInteger asked = new AtomicInteger();
    /** Allows session "good" (as the user named by its call count), denies anything else. */
    private final TestBackend auth = TestBackend.start((req, ctx) -> {
        int n = asked.incrementAndGet();
        String cookie = String.valueOf(req.headers().get("Cookie"));
        FullHttpResponse r = cookie.startsWith("s=good")
                ? TestBackend.text(HttpResponseStatus.NO_CONTENT, "")
                : TestBackend.text(HttpResponseStatus.UNAUTHORIZED, "log in");
        r.headers().set("X-User", "user-" + n);
        if (cookie.equals("s=good-nostore")) {
            r.headers().set("Cache-Control", "no-store");
        }
        ctx.writeAndFlush(r);
    });

    @AfterEach
    void close() {
        backend.close();
        auth.close();
    }

    private void start() {
        portico.start(b -> b.route("/", r -> r.upstream(backend.url()).policies(
                ForwardAuthPolicyConfig.builder(auth.url() + "/auth").copyRequestHeaders("Cookie")
                        .copyResponseHeaders("X-User").cache(TTL).build())));
    }

    private HttpResponse<String> get(String path, String cookie) throws Exception {
        return portico.send(HttpRequest.newBuilder(portico.uri(path)).header("Cookie", cookie)
                .header("X-User", "mallory").build());
    }

    @Test
    void aCachedDecisionSkipsTheAuthCallWithItsFieldsUntilItExpires() throws Exception {
        start();
        long t0 = System.nanoTime();
        assertThat(get("/a", "s=good").statusCode()).isEqualTo(200);
        assertThat(get("/a", "s=good").statusCode()).isEqualTo(200);
        assertThat(get("/a", "s=good").statusCode()).isEqualTo(200);
        boolean withinTtl = System.nanoTime() - t0 < TTL.toNanos();
        if (withinTtl) { // on a very slow machine the second call may come after expiry
            assertThat(asked.get()).isEqualTo(1);
        }
        assertThat(backend.take().headers().getAll("X-User")).containsExactly("user-1");
        assertThat(backend.take().headers().getAll("X-User")).as("the cached field, not the client's")
                .containsExactly("user-1");
        backend.take();
        int before = asked.get();
        Awaitility.await().pollDelay(TTL).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(get("/a", "s=good").statusCode()).isEqualTo(200);
            assertThat(asked.get()).as("expired: asked again").isGreaterThan(before);
        });
    }

    @Test
    void theKeyIsWhatTheAuthServiceSeesOtherCookiesAndOtherUrisAskAgain() throws Exception {
        start();
        assertThat(get("/a", "s=good").statusCode()).isEqualTo(200);
        assertThat(get("/a", "s=good;x=1").statusCode()).isEqualTo(200);
        assertThat(get("/b", "s=good").statusCode()).isEqualTo(200);
        assertThat(asked.get()).isEqualTo(3);
    }

    @Test
    void denialsAndNoStoreAnswersAreNeverCached() throws Exception {
        start();
        assertThat(get("/a", "s=bad").statusCode()).isEqualTo(401);
        assertThat(get("/a", "s=bad").statusCode()).isEqualTo(401);
        assertThat(get("/a", "s=good-nostore").statusCode()).isEqualTo(200);
        assertThat(get("/a", "s=good-nostore").statusCode()).isEqualTo(200);
        assertThat(asked.get()).isEqualTo(4);
        assertThat(backend.connections()).isEqualTo(1);
    }
}
