package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portico.config.BasicAuthPolicyConfig;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.testing.AuthFixtures;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * basic_auth and jwt on a policy run of their own, with an executor that counts the checks it is given: what the
 * cache spares, what a full queue answers, and what the paths cost.
 */
class AuthPoliciesTest {
    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final AtomicInteger checks = new AtomicInteger();
    private final Executor counting = task -> {
        checks.incrementAndGet();
        task.run();
    };
    private LocalResponse answer;
    private boolean passed;
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        assertThat(loop.finishAndReleaseAll()).isFalse();
    }

    private PolicyRun run(Policy p, String header, String value) throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().set(header, value);
        answer = null;
        passed = false;
        return new PolicyRun(PolicyChain.of(List.of(p), List.of("auth")), new PolicyRun.Host() {
            @Override
            public void policiesPassed(PolicyRun run) {
                passed = true;
            }

            @Override
            public void policyAnswered(PolicyRun run, LocalResponse response, String policy) {
                answer = response;
            }

            @Override
            public void policyFailed(PolicyRun run, Throwable cause, String policy) {
                throw new AssertionError(cause);
            }
        }, loop.eventLoop(), request, "/", "", "h", false, "HTTP/1.1", InetAddress.getLoopbackAddress(), "", "/");
    }

    private void startAndSettle(PolicyRun run) {
        run.start();
        loop.runPendingTasks();
    }

    /**
     * The median nanoseconds of the request phase on a fresh run, over many calls: the median, because on a busy
     * machine a mean mostly measures the calls that were descheduled.
     */
    private long hitNanos(Policy p, String header, String value) throws Exception {
        int n = 20_000;
        long[] took = new long[n];
        for (int i = 0; i < n; i++) {
            PolicyRun r = run(p, header, value);
            long t0 = System.nanoTime();
            Decision d = p.onRequest(r);
            took[i] = System.nanoTime() - t0;
            assertThat(d.isProceed()).isTrue();
        }
        java.util.Arrays.sort(took);
        return took[n / 2];
    }

    @Test
    void aBasicAuthSuccessIsCachedSoTheNextRequestPassesOnTheLoopWithoutACheck() throws Exception {
        BasicAuthPolicy p = new BasicAuthPolicy(BasicAuthPolicyConfig.builder()
                .user("alice", AuthFixtures.bcrypt("pw", 10)).build(), counting);
        String creds = AuthFixtures.basic("alice", "pw");
        long t0 = System.nanoTime();
        startAndSettle(run(p, "Authorization", creds));
        long checkNanos = System.nanoTime() - t0;
        assertThat(passed).isTrue();
        assertThat(checks.get()).isEqualTo(1);

        PolicyRun again = run(p, "Authorization", creds);
        again.start();
        assertThat(passed).as("passed without a suspension").isTrue();
        assertThat(checks.get()).isEqualTo(1);
        long hit = hitNanos(p, "Authorization", creds);
        System.out.printf("basic_auth: bcrypt cost 10 check %.1f ms, cached request phase median %.2f us%n",
                checkNanos / 1e6, hit / 1e3);
        assertThat(checks.get()).isEqualTo(1);
        assertThat(hit).isLessThan(50_000);
    }

    @Test
    void aFullCheckQueueAnswers503WithRetryAfter() throws Exception {
        Executor full = task -> {
            throw new RejectedExecutionException("full");
        };
        BasicAuthPolicy p = new BasicAuthPolicy(BasicAuthPolicyConfig.builder()
                .user("alice", AuthFixtures.bcrypt("pw", 4)).build(), full);
        startAndSettle(run(p, "Authorization", AuthFixtures.basic("alice", "pw")));
        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.headers()).contains(java.util.Map.entry("Retry-After", "1"));
    }

    @Test
    void anUnknownUserCostsAboutAsMuchAsAWrongPassword() throws Exception {
        BasicAuthPolicy p = new BasicAuthPolicy(BasicAuthPolicyConfig.builder()
                .user("alice", AuthFixtures.bcrypt("pw", 8)).build(), counting);
        long known = Long.MAX_VALUE;
        long unknown = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            startAndSettle(run(p, "Authorization", AuthFixtures.basic("alice", "wrong" + i)));
            long t1 = System.nanoTime();
            startAndSettle(run(p, "Authorization", AuthFixtures.basic("nobody" + i, "wrong")));
            long t2 = System.nanoTime();
            assertThat(answer.status()).isEqualTo(401);
            known = Math.min(known, t1 - t0);
            unknown = Math.min(unknown, t2 - t1);
        }
        System.out.printf("basic_auth bcrypt cost 8: wrong password %.2f ms, unknown user %.2f ms%n", known / 1e6,
                unknown / 1e6);
        assertThat(unknown).isGreaterThan(known / 2);
    }

    @Test
    void aVerifiedTokenIsCachedAndTheCostsOfEachPathAreMeasured() throws Exception {
        RSAKey rsa = AuthFixtures.rsa("r");
        ECKey ec = AuthFixtures.ec("e");
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, AuthFixtures.jwks(rsa.toPublicJWK(), ec.toPublicJWK()));
        JwtPolicy p = new JwtPolicy(JwtPolicyConfig.jwksFile(jwks).forwardClaim("sub", "X-User").build(), counting);
        for (com.nimbusds.jose.jwk.JWK key : new com.nimbusds.jose.jwk.JWK[] {rsa, ec}) {
            long[] took = new long[200];
            for (int i = 0; i < took.length; i++) {
                PolicyRun r = run(p, "Authorization", "Bearer " + AuthFixtures.token(key, c -> c.claim("n", 1)));
                long t0 = System.nanoTime();
                startAndSettle(r);
                took[i] = System.nanoTime() - t0;
                assertThat(passed).isTrue();
            }
            java.util.Arrays.sort(took);
            System.out.printf("jwt %s: uncached token (parse, verify, claims), median of 200: %.1f us%n",
                    key.getKeyType(), took[100] / 1e3);
        }
        String token = "Bearer " + AuthFixtures.token(ec);
        startAndSettle(run(p, "Authorization", token));
        int before = checks.get();
        PolicyRun again = run(p, "Authorization", token);
        again.start();
        assertThat(passed).isTrue();
        assertThat(again.request().headers().get("X-User")).isEqualTo("alice");
        assertThat(again.verifiedClaims()).containsEntry("sub", "alice");
        long hit = hitNanos(p, "Authorization", token);
        assertThat(checks.get()).isEqualTo(before);
        System.out.printf("jwt: cached token, request phase median %.2f us%n", hit / 1e3);
        assertThat(hit).isLessThan(50_000);
    }
}
