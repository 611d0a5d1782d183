package dev.portico.jmh;

import com.sun.management.ThreadMXBean;
import dev.portico.ProxyServer;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portico.config.AccessLogConfig;
import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.config.PolicyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
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
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
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
 * One proxied {@code GET /small} (1 KiB body) over loopback keep-alive connections, and the bytes the proxy's
 * event loop thread allocates and the CPU time it spends per request (printed at the end of the trial, from the
 * thread's own counters, so the client's and backend's work is not counted). {@code policies=none} is a route
 * without policies; {@code policies=three} one with {@code headers}, {@code security_headers} and
 * {@code ip_filter}, the cost of a typical chain; {@code ratelimit_basic} a local {@code rate_limit} (a limit no
 * request reaches) then {@code basic_auth} with a bcrypt user, and {@code ratelimit_jwt} the same limit then
 * {@code jwt} with an RS256 key: every request carries valid credentials, so after the first (checked off the event
 * loop) the authentication caches answer, which is the steady state of a logged-in client.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
public class ProxiedRequestBenchmark {
    private byte[] request = "GET /small HTTP/1.1\r\nHost: bench\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private EventLoopGroup backendGroup;
    private Channel backend;
    private ProxyServer proxy;
    private Socket client;
    private OutputStream out;
    private InputStream in;
    private byte[] expected;
    private byte[] buffer;
    private long proxyThreadId;
    private long allocatedAtStart;
    private long requests;
    private long cpuAtStart;

    @Param({"none", "three", "ratelimit_basic", "ratelimit_jwt"})
    public String policies;

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
        int backendPort = ((InetSocketAddress) backend.localAddress()).getPort();
        String upstream = "http://127.0.0.1:" + backendPort;
        PolicyConfig[] chain = chain();
        proxy = ProxyServer.builder().listen("127.0.0.1", 0).workers(1).accessLog(new AccessLogConfig(false))
                .route("/", r -> r.upstream(upstream).policies(chain))
                .build().start();
        connect();
        out.write(request);
        expected = readResponse(16 * 1024);
        buffer = new byte[expected.length];
        proxyThreadId = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("portico-loop")).findFirst().orElseThrow().getId();
        allocatedAtStart = allocated();
        cpuAtStart = ManagementFactory.getThreadMXBean().getThreadCpuTime(proxyThreadId);
    }

    /** The route's policies for {@link #policies}; also sets the credentials {@link #request} carries. */
    private PolicyConfig[] chain() throws IOException {
        RateLimitPolicyConfig limit = RateLimitPolicyConfig.builder("1000000/s").build();
        switch (policies) {
            case "none":
                return new PolicyConfig[0];
            case "three":
                return new PolicyConfig[] {
                    HeadersPolicyConfig.of(q -> q.set("X-Env", "prod").remove("X-Debug"),
                            p -> p.set("Cache-Control", "no-store")),
                    SecurityHeadersPolicyConfig.builder("strict").build(),
                    IpFilterPolicyConfig.allow("127.0.0.0/8", "10.0.0.0/8")};
            case "ratelimit_basic":
                withAuthorization("Basic " + Base64.getEncoder().encodeToString(
                        "bench:secret".getBytes(StandardCharsets.UTF_8)));
                return new PolicyConfig[] {limit, BasicAuthPolicyConfig.builder()
                        .user("bench", OpenBSDBCrypt.generate("secret".toCharArray(), new byte[16], 10)).build()};
            case "ratelimit_jwt":
                return new PolicyConfig[] {limit, JwtPolicyConfig.key(jwtKey()).algorithms("RS256").build()};
            default:
                throw new IllegalArgumentException("unknown policies: " + policies);
        }
    }

    /** Writes a fresh RSA public key as PEM and makes {@link #request} carry a token it signed. */
    private Path jwtKey() throws IOException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            KeyPair pair = g.generateKeyPair();
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), new JWTClaimsSet.Builder()
                    .subject("bench").expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).build());
            jwt.sign(new RSASSASigner(pair.getPrivate()));
            withAuthorization("Bearer " + jwt.serialize());
            Path pem = Files.createTempFile("portico-bench", ".pem");
            pem.toFile().deleteOnExit();
            Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
                    .encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
            return pem;
        } catch (GeneralSecurityException | JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private void withAuthorization(String value) {
        request = ("GET /small HTTP/1.1\r\nHost: bench\r\nAuthorization: " + value + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private byte[] readResponse(int max) throws IOException {
        byte[] b = new byte[max];
        int n = 0;
        while (true) {
            n += in.read(b, n, max - n);
            String s = new String(b, 0, n, StandardCharsets.ISO_8859_1);
            int end = s.indexOf("\r\n\r\n");
            if (end > 0 && !s.startsWith("HTTP/1.1 200 ")) {
                throw new IllegalStateException("the proxy did not answer 200: " + s.substring(0, end));
            }
            if (end > 0 && n >= end + 4 + 1024) {
                return java.util.Arrays.copyOf(b, end + 4 + 1024);
            }
        }
    }

    private long allocated() {
        return ((ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(proxyThreadId);
    }

    @Benchmark
    public int proxiedSmallRequest() throws IOException {
        out.write(request);
        int n = 0;
        while (n < buffer.length) {
            int r = in.read(buffer, n, buffer.length - n);
            if (r < 0) {
                // limits.max_requests_per_connection closed it: reconnect, as a browser or wrk would.
                connect();
                out.write(request);
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
        System.out.printf("%nportico event loop allocated %d bytes and used %.2f us of CPU per proxied request "
                + "(policies=%s, %d requests)%n", requests == 0 ? 0 : bytes / requests,
                requests == 0 ? 0.0 : cpu / 1000.0 / requests, policies, requests);
        client.close();
        proxy.stop();
        backend.close().syncUninterruptibly();
        backendGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
