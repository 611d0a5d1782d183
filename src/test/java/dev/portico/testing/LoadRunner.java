package dev.portico.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends a number of GETs with a fixed number of clients, each sending its next request when the last one is
 * answered (HTTP/1.1 keep-alive, the JDK client), and records every answer that is not a 200 and every error.
 */
public final class LoadRunner implements AutoCloseable {
    private final int total;
    private final AtomicInteger issued = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final Map<String, Integer> bodies = new ConcurrentHashMap<>();
    private final ExecutorService pool;
    private final List<Future<?>> workers = new ArrayList<>();

    /**
     * Starts sending.
     *
     * @param uri what to GET
     * @param total how many requests in all
     * @param concurrency how many clients send at once
     */
    public LoadRunner(URI uri, int total, int concurrency) {
        this.total = total;
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build();
        pool = Executors.newFixedThreadPool(concurrency);
        for (int w = 0; w < concurrency; w++) {
            workers.add(pool.submit(() -> {
                while (issued.incrementAndGet() <= total) {
                    try {
                        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            bodies.merge(r.body(), 1, Integer::sum);
                        } else {
                            failures.add(r.statusCode() + " " + r.body().strip());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                    completed.incrementAndGet();
                }
                return null;
            }));
        }
    }

    /** @return requests answered (or failed) so far */
    public int completed() {
        return completed.get();
    }

    /**
     * Waits for every request to end.
     *
     * @param timeout the longest wait
     */
    public void await(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Future<?> f : workers) {
            f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /** @return each failure: a status other than 200 with its body, or an exception */
    public List<String> failures() {
        return List.copyOf(failures);
    }

    /** @return how many 200 answers had each body */
    public Map<String, Integer> bodies() {
        return Map.copyOf(bodies);
    }

    /** @return the number of requests */
    public int total() {
        return total;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
