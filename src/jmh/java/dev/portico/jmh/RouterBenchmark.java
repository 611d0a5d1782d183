package dev.portico.jmh;

import dev.portico.config.RouteConfig;
import dev.portico.internal.route.Route;
import dev.portico.internal.route.Router;
import dev.portico.internal.balance.UpstreamGroup;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;

/** Route lookup cost with 1 and 10,000 routes: it should not depend on the table size. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouterBenchmark {
    @Param({"1", "10000"})
    public int routes;

    private Router router;
    private String path;

    @Setup
    public void setUp() {
        List<Route> list = new ArrayList<>();
        UpstreamGroup backend = new UpstreamGroup(RouteConfig.of("/", "http://127.0.0.1:8000").upstream(), "b");
        for (int i = 0; i < routes; i++) {
            list.add(new Route(RouteConfig.of("/svc" + i + "/api", "http://127.0.0.1:8000"), backend, 0));
        }
        router = new Router(list);
        int target = routes / 2;
        path = "/svc" + target + "/api/v1/items/42";
    }

    @Benchmark
    public Route lookup() {
        return router.find("shop.example.com:8080", path);
    }
}
