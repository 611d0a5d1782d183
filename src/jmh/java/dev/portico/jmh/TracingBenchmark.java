package dev.portico.jmh;

import com.sun.management.ThreadMXBean;
import com.sun.net.httpserver.HttpServer;
import dev.portico.ProxyServer;
import dev.portico.config.AccessLogConfig;
import dev.portico.config.OperationsConfig;
import dev.portico.config.TracingConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
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

    private EventLoopGroup backendGroup;
    private Channel backend;
    private HttpServer receiver;
    private ProxyServer proxy;
    private Socket client;
    private OutputStream out;
    private InputStream in;
    private byte[] buffer;
    private long proxyThreadId;
    private long allocatedAtStart;
    private long cpuAtStart;
    private long exportCpuAtStart;
    private long requests;

    @Param({"off", "ratio0", "ratio1"})
    public String tracing;

    @Setup
    public void setUp() throws IOException {
        backendGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ByteBuf body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(1024).writeZero(1024));
        backend = new ServerBootstrap().group(backendGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
                                        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.OK, body.duplicate());
                                        r.headers().setInt("content-length", 1024);
                                        ctx.writeAndFlush(r);
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/v1/traces", x -> {
            x.getRequestBody().readAllBytes();
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        receiver.start();
        String upstream = "http://127.0.0.1:" + ((InetSocketAddress) backend.localAddress()).getPort();
        TracingConfig.Builder t = TracingConfig.builder();
        if (!tracing.equals("off")) {
            t.otlp("http://127.0.0.1:" + receiver.getAddress().getPort())
                    .samplerRatio(tracing.equals("ratio1") ? 1 : 0);
        }
        proxy = ProxyServer.builder().listen("127.0.0.1", 0).workers(1).accessLog(new AccessLogConfig(false))
                .operations(OperationsConfig.builder().tracing(t.build()).build())
                .route("/", upstream).build().start();
        connect();
        out.write(REQUEST);
        buffer = readResponse(16 * 1024);
        proxyThreadId = Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th.getName().startsWith("portico-loop")).findFirst().orElseThrow().getId();
        allocatedAtStart = allocated();
        cpuAtStart = ManagementFactory.getThreadMXBean().getThreadCpuTime(proxyThreadId);
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

    private byte[] readResponse(int max) throws IOException {
        byte[] b = new byte[max];
        int n = 0;
        while (true) {
            n += in.read(b, n, max - n);
            String s = new String(b, 0, n, StandardCharsets.ISO_8859_1);
            int end = s.indexOf("\r\n\r\n");
            if (end > 0 && n >= end + 4 + 1024) {
                return new byte[end + 4 + 1024];
            }
        }
    }

    private long allocated() {
        return ((ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(proxyThreadId);
    }

    @Benchmark
    public int proxiedSmallRequest() throws IOException {
        out.write(REQUEST);
        int n = 0;
        while (n < buffer.length) {
            int r = in.read(buffer, n, buffer.length - n);
            if (r < 0) {
                connect(); // limits.max_requests_per_connection closed it: reconnect, as a browser would
                out.write(REQUEST);
                n = 0;
                continue;
            }
            n += r;
        }
        requests++;
        return n;
    }

    private void connect() throws IOException {
        if (client != null) {
            client.close();
        }
        client = new Socket("127.0.0.1", proxy.port());
        client.setTcpNoDelay(true);
        out = client.getOutputStream();
        in = client.getInputStream();
    }

    @TearDown
    public void tearDown() throws IOException {
        long bytes = allocated() - allocatedAtStart;
        long cpu = ManagementFactory.getThreadMXBean().getThreadCpuTime(proxyThreadId) - cpuAtStart;
        long export = exportCpu() - exportCpuAtStart;
        double perLoop = requests == 0 ? 0 : cpu / 1000.0 / requests;
        double perExport = requests == 0 ? 0 : export / 1000.0 / requests;
        System.out.printf("%ntracing=%s: event loop %.2f us CPU and %d bytes per request; export threads %.2f us "
                + "CPU per request; together %.2f us (%d requests)%n", tracing, perLoop,
                requests == 0 ? 0 : bytes / requests, perExport, perLoop + perExport, requests);
        client.close();
        proxy.stop();
        receiver.stop(0);
        backend.close().syncUninterruptibly();
        backendGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
