package dev.portico.jmh;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portico.ProxyServer;
import dev.portico.config.AccessLogConfig;
import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.config.PolicyConfig;
import dev.portico.config.RateLimitPolicyConfig;
import dev.portico.config.SecurityHeadersPolicyConfig;
import java.io.IOException;
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
    private static final byte[] PLAIN = "GET /small HTTP/1.1\r\nHost: bench\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private LoopbackRig rig;
    private ProxyServer proxy;
    private byte[] request = PLAIN;

    @Param({"none", "three", "ratelimit_basic", "ratelimit_jwt"})
    public String policies;

    @Setup
    public void setUp() throws IOException {
        rig = new LoopbackRig();
        PolicyConfig[] chain = chain();
        proxy = ProxyServer.builder().listen("127.0.0.1", 0).workers(1).accessLog(new AccessLogConfig(false))
                .route("/", r -> r.upstream(rig.backendUrl()).policies(chain))
                .build().start();
        rig.connect(proxy.port(), request);
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

    @Benchmark
    public int proxiedSmallRequest() throws IOException {
        return rig.exchange();
    }

    @TearDown
    public void tearDown() throws IOException {
        System.out.printf("%nportico event loop allocated %d bytes and used %.2f us of CPU per proxied request "
                + "(policies=%s, %d requests)%n", rig.loopBytesPerRequest(), rig.loopCpuMicrosPerRequest(), policies,
                rig.requests());
        proxy.stop();
        rig.close();
    }
}
