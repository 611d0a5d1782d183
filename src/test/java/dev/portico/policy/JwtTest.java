package dev.portico.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.SignedJWT;
import dev.portico.config.CustomPolicyConfig;
import dev.portico.config.JwtPolicyConfig;
import dev.portico.internal.policy.PolicyRun;
import dev.portico.testing.AuthFixtures;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** jwt through a real proxy, with tokens minted here and a JWK set served by an in-test identity provider. */
@Timeout(60)
class JwtTest {
    private static final RSAKey K1 = AuthFixtures.rsa("k1");
    private static final ECKey K2 = AuthFixtures.ec("k2");

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();
    /** What the identity provider answers: a JWK set, "garbage" or "hang". */
    private final AtomicReference<String> jwks = new AtomicReference<>(AuthFixtures.jwks(K1.toPublicJWK()));
    private final AtomicInteger fetches = new AtomicInteger();
    private final TestBackend idp = TestBackend.start((req, ctx) -> {
        fetches.incrementAndGet();
        String answer = jwks.get();
        if (answer.equals("hang")) {
            return;
        }
        var r = TestBackend.text(HttpResponseStatus.OK, answer.equals("garbage") ? "<html>oops</html>" : answer);
        r.headers().set("Cache-Control", "max-age=600");
        ctx.writeAndFlush(r);
    });

    @AfterEach
    void close() {
        backend.close();
        idp.close();
    }

    private JwtPolicyConfig.Builder policy() {
        return JwtPolicyConfig.jwksUrl(URI.create(idp.url() + "/jwks")).issuer("https://idp.test/").audiences("api")
                .requiredClaims("sub").jwksTimeout(Duration.ofSeconds(5));
    }

    private void start(JwtPolicyConfig jwt, Policy... after) {
        portico.start(b -> b.limits(l -> l.maxHeaderSize(512 * 1024)).route("/", r -> {
            r.upstream(backend.url()).policies(jwt);
            for (Policy p : after) {
                r.policies(CustomPolicyConfig.of(p));
            }
            return r;
        }).route("/open", backend.url()));
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return portico.send(b.build());
    }

    private HttpResponse<String> bearer(String token) throws Exception {
        return get("/", "Authorization", "Bearer " + token);
    }

    private static String token(UnaryOperator<com.nimbusds.jwt.JWTClaimsSet.Builder> c) {
        return AuthFixtures.token(K1, c);
    }

    private void assertInvalid(HttpResponse<String> r) {
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer error=\"invalid_token\"");
        assertThat(r.body()).isEqualTo("Unauthorized\n");
    }

    @Test
    void validTokensPassWithTheirClaimsForwardedAndClientCopiesRemoved() throws Exception {
        jwks.set(AuthFixtures.jwks(K1.toPublicJWK(), K2.toPublicJWK()));
        start(policy().forwardClaim("sub", "X-User-Id").forwardClaim("email", "X-User-Email").build());

        HttpResponse<String> ok = get("/a", "Authorization", "Bearer " + token(c -> c.claim("email", "a@x.test")),
                "X-User-Id", "mallory", "X-User-Email", "m@evil.test");
        assertThat(ok.statusCode()).isEqualTo(200);
        TestBackend.Received seen = backend.take();
        assertThat(seen.headers().getAll("X-User-Id")).containsExactly("alice");
        assertThat(seen.headers().getAll("X-User-Email")).containsExactly("a@x.test");

        assertThat(get("/b", "Authorization", "Bearer " + AuthFixtures.token(K2), "X-User-Email", "m@evil.test")
                .statusCode()).isEqualTo(200);
        seen = backend.take();
        assertThat(seen.headers().get("X-User-Id")).isEqualTo("alice");
        assertThat(seen.headers().contains("X-User-Email")).as("no email claim: the client's copy is gone too")
                .isFalse();
    }

    @Test
    void aRequestWithoutATokenGetsABareBearerChallenge() throws Exception {
        start(policy().build());
        for (HttpResponse<String> r : new HttpResponse[] {get("/"), get("/", "Authorization", "Basic YTpi")}) {
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer");
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void expiryNotBeforeIssuerAudienceAndRequiredClaimsAreCheckedWithLeeway() throws Exception {
        start(policy().build());
        Instant now = Instant.now();
        assertThat(bearer(token(c -> c.expirationTime(Date.from(now.minusSeconds(10))))).statusCode())
                .as("expired 10 s ago, within the 30 s leeway").isEqualTo(200);
        assertThat(bearer(token(c -> c.notBeforeTime(Date.from(now.plusSeconds(10))))).statusCode())
                .as("valid in 10 s, within the leeway").isEqualTo(200);
        assertInvalid(bearer(token(c -> c.expirationTime(Date.from(now.minusSeconds(60))))));
        assertInvalid(bearer(token(c -> c.notBeforeTime(Date.from(now.plusSeconds(60))))));
        assertInvalid(bearer(token(c -> c.expirationTime(null))));
        assertInvalid(bearer(token(c -> c.issuer("https://evil.test/"))));
        assertInvalid(bearer(token(c -> c.audience("other"))));
        assertInvalid(bearer(token(c -> c.subject(null))));
        assertInvalid(bearer("not.a.token"));
        assertInvalid(bearer("Zm9v"));
        assertThat(backend.pending()).isEqualTo(2);
    }

    @Test
    void algNoneAndAnHmacTokenKeyedWithThePublicKeyAreRefused() throws Exception {
        start(policy().build());
        String claims = AuthFixtures.claims().build().toString();
        String none = Base64URL.encode("{\"alg\":\"none\"}").toString() + "."
                + Base64URL.encode(claims.getBytes(StandardCharsets.UTF_8)) + ".";
        assertInvalid(bearer(none));
        // algorithm confusion: HS256 keyed with the bytes of the RSA public key a naive verifier would use
        SignedJWT confused = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(),
                AuthFixtures.claims().build());
        confused.sign(new MACSigner(K1.toRSAPublicKey().getEncoded()));
        assertInvalid(bearer(confused.serialize()));
        // a valid signature from a key the set does not have, under a known kid
        assertInvalid(bearer(AuthFixtures.token(AuthFixtures.rsa("k1"))));
        assertThat(backend.pending()).isZero();
    }

    @Test
    void aHundredKibTokenIsRefused() throws Exception {
        start(policy().build());
        assertInvalid(bearer("a".repeat(100 * 1024)));
        assertThat(get("/open").statusCode()).isEqualTo(200);
        assertThat(backend.pending()).isEqualTo(1);
    }

    @Test
    void aRotatedKeyIsPickedUpWhenATokenNamesItsKidAndUnknownKidsAreRateLimited() throws Exception {
        start(policy().build());
        assertThat(bearer(AuthFixtures.token(K1)).statusCode()).isEqualTo(200);
        assertThat(fetches.get()).isEqualTo(1);

        RSAKey k3 = AuthFixtures.rsa("k3");
        jwks.set(AuthFixtures.jwks(k3.toPublicJWK()));
        assertThat(bearer(AuthFixtures.token(k3)).statusCode()).isEqualTo(200);
        assertThat(fetches.get()).isEqualTo(2);
        assertInvalid(bearer(AuthFixtures.token(K1)));

        for (int i = 0; i < 5; i++) {
            assertInvalid(bearer(AuthFixtures.token(AuthFixtures.rsa("made-up-" + i))));
        }
        assertThat(fetches.get()).as("one refetch per 10 s at most").isEqualTo(2);
    }

    @Test
    void aJwksAnsweringGarbageRefusesUnknownKidsAndKeepsTheKeysItHeld() throws Exception {
        start(policy().build());
        assertThat(bearer(AuthFixtures.token(K1)).statusCode()).isEqualTo(200);
        backend.take();
        jwks.set("garbage");
        assertInvalid(bearer(AuthFixtures.token(K2)));
        assertThat(fetches.get()).isEqualTo(2);
        assertThat(bearer(AuthFixtures.token(K1, c -> c.subject("bob"))).statusCode()).isEqualTo(200);
        assertThat(backend.take().uri()).isEqualTo("/");
        assertThat(backend.pending()).isZero();
    }

    @Test
    void aHangingJwksRefusesTheTokenAfterItsTimeoutWhileOtherRequestsAreServed() throws Exception {
        jwks.set("hang");
        start(policy().jwksTimeout(Duration.ofSeconds(3)).build());
        CompletableFuture<HttpResponse<String>> waiting = portico.client().sendAsync(HttpRequest.newBuilder(
                portico.uri("/")).header("Authorization", "Bearer " + AuthFixtures.token(K1)).build(),
                HttpResponse.BodyHandlers.ofString());
        // one event loop: it answers other requests while the token waits for the keys
        for (int i = 0; i < 5; i++) {
            assertThat(get("/open").statusCode()).isEqualTo(200);
            backend.take();
        }
        assertThat(waiting.isDone()).as("still waiting for the key set while the others were answered").isFalse();
        assertInvalid(waiting.get(15, TimeUnit.SECONDS));
        assertThat(backend.pending()).isZero();
    }

    @Test
    void tokensAreReadFromACookieOrTheQueryWhenConfigured() throws Exception {
        start(policy().tokenFrom("cookie:session").build());
        assertThat(get("/", "Cookie", "a=b; session=" + AuthFixtures.token(K1)).statusCode()).isEqualTo(200);
        assertThat(get("/", "Authorization", "Bearer " + AuthFixtures.token(K1)).statusCode()).isEqualTo(401);
        start(policy().tokenFrom("query:access_token").build());
        assertThat(get("/?access_token=" + AuthFixtures.token(K1)).statusCode()).isEqualTo(200);
    }

    @Test
    void laterPoliciesSeeTheVerifiedClaims() throws Exception {
        AtomicReference<Map<String, Object>> seen = new AtomicReference<>();
        Policy reader = new Policy() {
            @Override
            public Decision onRequest(RequestContext r) {
                seen.set(((PolicyRun) r).verifiedClaims());
                return Decision.proceed();
            }
        };
        start(policy().build(), reader);
        assertThat(bearer(token(c -> c.claim("tenant", "t-7"))).statusCode()).isEqualTo(200);
        assertThat(seen.get()).containsEntry("sub", "alice").containsEntry("tenant", "t-7");
    }

    @Test
    void aPemKeyAndAnHmacSecretFileVerifyTheirOwnTokensOnly(@TempDir Path dir) throws Exception {
        Path pem = dir.resolve("key.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n" + java.util.Base64.getMimeEncoder()
                .encodeToString(K2.toECPublicKey().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        start(JwtPolicyConfig.key(pem).algorithms("ES256").build());
        assertThat(bearer(AuthFixtures.token(K2)).statusCode()).isEqualTo(200);
        assertInvalid(bearer(AuthFixtures.token(K1)));

        byte[] secret = "a shared secret of more than 32 bytes".getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("secret");
        Files.write(file, secret);
        start(JwtPolicyConfig.secretFile(file).build());
        SignedJWT hs = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), AuthFixtures.claims().build());
        hs.sign(new MACSigner(secret));
        assertThat(bearer(hs.serialize()).statusCode()).isEqualTo(200);
        SignedJWT other = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), AuthFixtures.claims().build());
        other.sign(new MACSigner("another secret, also long enough!!".getBytes(StandardCharsets.UTF_8)));
        assertInvalid(bearer(other.serialize()));
        assertInvalid(bearer(AuthFixtures.token(K1)));
    }
}
