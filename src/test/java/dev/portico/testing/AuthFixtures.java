package dev.portico.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

/** Password hashes, keys and tokens for the authentication tests, made in the tests. */
public final class AuthFixtures {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AuthFixtures() {
    }

    /** @return a {@code $2y$} bcrypt hash of {@code password} with the given cost */
    public static String bcrypt(String password, int cost) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, cost);
    }

    /** @return an argon2id hash in the PHC string format (m=4096 KiB, t=2, p=1) */
    public static String argon2id(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        Argon2Parameters p = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13).withMemoryAsKB(4096).withIterations(2)
                .withParallelism(1).withSalt(salt).build();
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(p);
        byte[] hash = new byte[32];
        g.generateBytes(password.getBytes(StandardCharsets.UTF_8), hash);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=4096,t=2,p=1$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /** @return the {@code Authorization} value for Basic credentials */
    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** @return a fresh 2048-bit RSA signing key with that id */
    public static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return a fresh P-256 signing key with that id */
    public static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the public JWK set of the keys, as JSON */
    public static String jwks(JWK... keys) {
        return new JWKSet(List.of(keys)).toString(true);
    }

    /** @return claims for issuer {@code https://idp.test/}, audience {@code api}, subject alice, valid for 1 h */
    public static JWTClaimsSet.Builder claims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer("https://idp.test/").audience("api").subject("alice")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofHours(1))));
    }

    /** @return a token signed by {@code key} (RS256 or ES256 by its type) with the claims changed by {@code c} */
    public static String token(JWK key, UnaryOperator<JWTClaimsSet.Builder> c) {
        try {
            JWSAlgorithm alg = key instanceof RSAKey ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256;
            JWSSigner signer = key instanceof RSAKey r ? new RSASSASigner(r) : new ECDSASigner((ECKey) key);
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).build(),
                    c.apply(claims()).build());
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return a token signed by {@code key} with the default claims */
    public static String token(JWK key) {
        return token(key, c -> c);
    }
}
