package dev.portico.jmh;

import dev.portico.internal.proxy.HeaderRewriter;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The request and response head rewrite for a typical browser request. Run with {@code -prof gc}. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HeaderRewriteBenchmark {
    private HttpRequest request;
    private HttpResponse response;

    @Setup
    public void setUp() {
        request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/v1/items/42?expand=true");
        request.headers().set("Host", "shop.example.com")
                .set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                .set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                .set("Accept-Language", "en-US,en;q=0.5")
                .set("Accept-Encoding", "gzip, deflate, br")
                .set("Connection", "keep-alive")
                .set("Cookie", "session=0123456789abcdef; theme=dark")
                .set("Upgrade-Insecure-Requests", "1");
        response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set("Content-Type", "application/json").set("Content-Length", "1024")
                .set("Date", "Thu, 26 Nov 2026 09:00:00 GMT").set("Server", "backend")
                .set("Cache-Control", "no-cache").set("Connection", "keep-alive");
    }

    @Benchmark
    public HttpRequest requestHead() {
        return HeaderRewriter.upstreamRequest(request, "/api/v1/items/42?expand=true", "shop.example.com",
                "203.0.113.7", "shop.example.com", false);
    }

    @Benchmark
    public HttpResponse responseHead() {
        return HeaderRewriter.clientResponse(response, HttpVersion.HTTP_1_1, false, true);
    }
}
