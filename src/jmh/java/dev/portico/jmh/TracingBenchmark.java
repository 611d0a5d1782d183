package dev.portico.jmh;

import com.sun.management.ThreadMXBean;
import com.sun.net.httpserver.HttpServer;
import dev.portico.ProxyServer;
import dev.portico.config.AccessLogConfig;
import dev.portico.config.OperationsConfig;
import dev.portico.config.TracingConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
 * The cost of tracing on one proxied {@code GET /small} (1 KiB body): {@code tracing=off} (no {@code tracing.otlp}),
 * {@code ratio0} (export configured, every request sampled out) and {@code ratio1} (every request traced, its two
 * spans exported to an OTLP/HTTP receiver in this JVM that reads and drops them). At the end of each trial it prints
 * the CPU time per request of the proxy's event loop, of the export threads (the SDK's batch processor and the JDK
 * HttpClient that sends), and the bytes the event loop allocated per request, from the threads' own counters: the
 * client's, backend's and receiver's work is not counted. Run pinned to one core, e.g.
 * {@code taskset -c 0 bench/jmh.sh TracingBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
public class TracingBenchmark {
    private static final byte[] REQUEST = "GET /small HTTP/1.1\r\nHost: bench\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private LoopbackRig rig;
    private HttpServer receiver;
    private ProxyServer proxy;
    private long exportCpuAtStart;

    @Param({"off", "ratio0", "ratio1"})
    public String tracing;

    @Setup
    public void setUp() throws IOException {
        rig = new LoopbackRig();
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/v1/traces", x -> {
            x.getRequestBody().readAllBytes();
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        receiver.start();
        String upstream = rig.backendUrl();
        TracingConfig.Builder t = TracingConfig.builder();
        if (!tracing.equals("off")) {
            t.otlp("http://127.0.0.1:" + receiver.getAddress().getPort())
                    .samplerRatio(tracing.equals("ratio1") ? 1 : 0);
        }
        proxy = ProxyServer.builder().listen("127.0.0.1", 0).workers(1).accessLog(new AccessLogConfig(false))
                .operations(OperationsConfig.builder().tracing(t.build()).build())
                .route("/", upstream).build().start();
        rig.connect(proxy.port(), REQUEST);
        exportCpuAtStart = exportCpu();
    }

    /** CPU time of the threads that export: the batch processor's and the JDK HttpClient's. */
    private static long exportCpu() {
        long sum = 0;
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (Thread th : Thread.getAllStackTraces().keySet()) {
            String n = th.getName();
            if (n.startsWith("BatchSpanProcessor") || n.startsWith("jdkhttp") || n.startsWith("HttpClient")) {
                sum += Math.max(0, mx.getThreadCpuTime(th.getId()));
            }
        }
        return sum;
    }

    @Benchmark
    public int proxiedSmallRequest() throws IOException {
        return rig.exchange();
    }

    @TearDown
    public void tearDown() throws IOException {
        long requests = rig.requests();
        double perLoop = rig.loopCpuMicrosPerRequest();
        double perExport = requests == 0 ? 0 : (exportCpu() - exportCpuAtStart) / 1000.0 / requests;
        System.out.printf("%ntracing=%s: event loop %.2f us CPU and %d bytes per request; export threads %.2f us "
                + "CPU per request; together %.2f us (%d requests)%n", tracing, perLoop, rig.loopBytesPerRequest(),
                perExport, perLoop + perExport, requests);
        proxy.stop();
        receiver.stop(0);
        rig.close();
    }
}
