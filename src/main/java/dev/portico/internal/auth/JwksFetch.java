package dev.portico.internal.auth;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One asynchronous GET of a JWK set with the JDK's HTTP client, whose own threads run it: never an event loop. The
 * body is bounded ({@link #MAX_BYTES}) and the whole fetch, body included, is bounded by a timeout.
 */
final class JwksFetch {
    /** The largest JWK set accepted. */
    static final int MAX_BYTES = 256 * 1024;
    private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])max-age\\s*=\\s*\"?(\\d{1,10})");
    /**
     * Runs the client's work and every completion of a fetch: a fetch that completes before its caller attaches a
     * stage would otherwise run that stage on the caller's thread, an event loop. Fetches are rate-limited, so a
     * few daemon threads suffice.
     */
    static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "portico-jwks");
        t.setDaemon(true);
        return t;
    });
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).executor(EXECUTOR).build();

    /** A fetched body and the lifetime its {@code Cache-Control: max-age} gave, or null. */
    record Result(String body, Duration maxAge) {
    }

    private JwksFetch() {
    }

    static CompletableFuture<Result> get(URI url, Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(timeout).header("Accept", "application/json")
                .GET().build();
        CompletableFuture<HttpResponse<String>> sent = CLIENT.sendAsync(request, info -> new LimitedBody());
        CompletableFuture<Result> result = sent.thenApplyAsync(JwksFetch::result, EXECUTOR);
        // The client's own timeout ends with the response head; a body that trickles or hangs is cut here.
        result.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).whenComplete((r, e) -> {
            if (e != null) {
                sent.cancel(true);
            }
        });
        return result;
    }

    private static Result result(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException("status " + response.statusCode());
        }
        Duration maxAge = null;
        for (String cc : response.headers().allValues("cache-control")) {
            Matcher m = MAX_AGE.matcher(cc.toLowerCase(java.util.Locale.ROOT));
            if (m.find()) {
                maxAge = Duration.ofSeconds(Long.parseLong(m.group(1)));
            }
        }
        return new Result(response.body(), maxAge);
    }

    /** Collects the body, giving up past {@link #MAX_BYTES}. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<String> {
        private final CompletableFuture<String> body = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (bytes.size() + b.remaining() > MAX_BYTES) {
                    subscription.cancel();
                    body.completeExceptionally(new IOException("JWK set larger than " + MAX_BYTES + " bytes"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable t) {
            body.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            body.complete(bytes.toString(StandardCharsets.UTF_8));
        }

        @Override
        public CompletionStage<String> getBody() {
            return body;
        }
    }
}
