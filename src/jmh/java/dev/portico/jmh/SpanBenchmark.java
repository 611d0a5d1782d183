package dev.portico.jmh;

import dev.portico.config.TracingConfig;
import dev.portico.internal.trace.TraceExport;
import dev.portico.internal.trace.Tracing;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.opentelemetry.api.trace.Span;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What tracing adds on the event loop for one request, without the network: the sampling decision, and for a
 * traced request making and ending its SERVER span and one try's CLIENT span with their attributes and the
 * {@code traceparent} sent upstream. The export queue is reached but its exporter has nowhere to send (the spans are
 * dropped and counted, as when a collector is down), so only the event loop's share is measured. With
 * {@code -prof gc} it gives the bytes allocated per request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpanBenchmark {
    @Param({"0", "1"})
    public double ratio;

    private TraceExport export;
    private Tracing tracing;
    private HttpRequest request;
    private HttpHeaders upstream;

    @Setup
    public void setUp() {
        export = new TraceExport();
        tracing = export.next(TracingConfig.builder().otlp("http://127.0.0.1:9").samplerRatio(ratio).build());
        request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/items?x=1");
        request.headers().set("host", "bench").set("user-agent", "jmh");
        upstream = new DefaultHttpHeaders();
    }

    @Benchmark
    public Span request() {
        Span server = tracing.server(request, "/api", "127.0.0.1", false, 0);
        if (server == null) {
            return null;
        }
        Span attempt = tracing.attempt(server, "GET", "127.0.0.1", 8080, 1);
        Tracing.connected(attempt, true, 0, 0, upstream);
        attempt.setAttribute("http.response.status_code", 200);
        attempt.end();
        Tracing.endServer(server, 200, 0, 1024, null);
        return server;
    }

    @TearDown
    public void tearDown() {
        export.close();
    }
}
