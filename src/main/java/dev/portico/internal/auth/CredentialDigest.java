package dev.portico.internal.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed digests of credentials (HMAC-SHA256 under a random key made once per process), used as cache keys: a cache
 * never holds a password or a token, and what it holds is useless outside this process.
 */
public final class CredentialDigest {
    /** A 256-bit digest; compared by value. */
    public record Key(long a, long b, long c, long d) {
    }

    private static final SecretKeySpec PROCESS_KEY;
    private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(CredentialDigest::newMac);

    static {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        PROCESS_KEY = new SecretKeySpec(k, "HmacSHA256");
    }

    private CredentialDigest() {
    }

    private static Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(PROCESS_KEY);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing", e);
        }
    }

    /**
     * @param scope what the credential is for (e.g. a policy's identity), so equal credentials of two policies
     *     differ
     * @param credential the credential, e.g. {@code user:password} or a token
     * @return its keyed digest
     */
    public static Key of(String scope, String credential) {
        Mac mac = MAC.get();
        mac.update(scope.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        ByteBuffer d = ByteBuffer.wrap(mac.doFinal(credential.getBytes(StandardCharsets.UTF_8)));
        return new Key(d.getLong(), d.getLong(), d.getLong(), d.getLong());
    }
}
