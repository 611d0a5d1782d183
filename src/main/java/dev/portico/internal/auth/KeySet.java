package dev.portico.internal.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys a token may be verified with at one moment, each with its ready verifier and the algorithms it may
 * serve: an RSA key only RS and PS, an EC key only the ES algorithm of its curve, a secret only HS. Immutable.
 */
public final class KeySet {
    /** The most keys tried for a token without {@code kid}. */
    static final int MAX_TRIES = 4;
    /** No keys (yet). */
    public static final KeySet EMPTY = new KeySet(List.of(), 0);

    /** One key: its id (or null), the algorithm it is pinned to (or null), and its verifier. */
    private record Entry(String kid, String alg, String family, int ecBits, JWSVerifier verifier) {
        boolean serves(String tokenKid, String tokenAlg) {
            if (tokenKid != null && kid != null && !kid.equals(tokenKid)) {
                return false;
            }
            if (alg != null && !alg.equals(tokenAlg)) {
                return false;
            }
            return switch (family) {
                case "RSA" -> tokenAlg.startsWith("RS") || tokenAlg.startsWith("PS");
                case "EC" -> tokenAlg.equals("ES256") && ecBits == 256 || tokenAlg.equals("ES384") && ecBits == 384
                        || tokenAlg.equals("ES512") && ecBits == 521;
                default -> KeyMaterial.isHmac(tokenAlg);
            };
        }
    }

    private final List<Entry> entries;
    private final long generation;

    private KeySet(List<Entry> entries, long generation) {
        this.entries = entries;
        this.generation = generation;
    }

    /**
     * @param keys public JWKs (RSA or EC)
     * @param generation a number that changes whenever the keys do
     * @return the set
     * @throws IllegalArgumentException if a key cannot verify
     */
    public static KeySet ofJwks(List<JWK> keys, long generation) {
        List<Entry> entries = new ArrayList<>();
        try {
            for (JWK k : keys) {
                String alg = k.getAlgorithm() == null ? null : k.getAlgorithm().getName();
                if (k instanceof RSAKey rsa) {
                    entries.add(new Entry(k.getKeyID(), alg, "RSA", 0, new RSASSAVerifier(rsa)));
                } else if (k instanceof ECKey ec) {
                    entries.add(new Entry(k.getKeyID(), alg, "EC", ec.getCurve().toECParameterSpec().getCurve()
                            .getField().getFieldSize(), new ECDSAVerifier(ec)));
                }
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable key: " + e.getMessage(), e);
        }
        return new KeySet(List.copyOf(entries), generation);
    }

    /**
     * @param key an RSA or EC public key
     * @return a set of that key alone
     */
    public static KeySet ofPublicKey(PublicKey key) {
        try {
            if (key instanceof RSAPublicKey rsa) {
                return new KeySet(List.of(new Entry(null, null, "RSA", 0, new RSASSAVerifier(rsa))), 1);
            }
            ECPublicKey ec = (ECPublicKey) key;
            return new KeySet(List.of(new Entry(null, null, "EC", ec.getParams().getCurve().getField().getFieldSize(),
                    new ECDSAVerifier(ec))), 1);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable key: " + e.getMessage(), e);
        }
    }

    /**
     * @param secret an HMAC secret of at least 256 bits
     * @return a set of that secret alone
     */
    public static KeySet ofSecret(byte[] secret) {
        try {
            return new KeySet(List.of(new Entry(null, null, "HMAC", 0, new MACVerifier(secret))), 1);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable secret: " + e.getMessage(), e);
        }
    }

    /**
     * @param kid the token's {@code kid}, or null
     * @param alg the token's {@code alg}
     * @return the verifiers that may check it: the key with that id, or for a token without one the first few that
     *     fit the algorithm; empty if none does
     */
    public List<JWSVerifier> verifiers(String kid, String alg) {
        List<JWSVerifier> result = new ArrayList<>(1);
        for (Entry e : entries) {
            if (e.serves(kid, alg)) {
                result.add(e.verifier);
                if (result.size() == MAX_TRIES) {
                    break;
                }
            }
        }
        return result;
    }

    /** @return a number that changes whenever the keys do */
    public long generation() {
        return generation;
    }

    /** @return how many keys the set holds */
    public int size() {
        return entries.size();
    }
}
