package dev.portico.internal.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/** Reads the keys a {@code jwt} policy verifies with: JWK sets, PEM public keys, shared secrets. */
public final class KeyMaterial {
    /** The signature algorithms Portico verifies; {@code none} is never one of them. */
    public static final Set<String> SUPPORTED = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "HS256", "HS384", "HS512");
    /** The shortest HMAC secret accepted: 256 bits (RFC 7518 section 3.2). */
    public static final int MIN_SECRET_BYTES = 32;

    private KeyMaterial() {
    }

    /**
     * @param json a JWK set
     * @return its public signing keys (RSA and EC; keys for encryption or of other types left out)
     * @throws IllegalArgumentException if it is not a JWK set or holds no such key
     */
    public static List<JWK> jwks(String json) {
        JWKSet set;
        try {
            set = JWKSet.parse(json);
        } catch (ParseException e) {
            throw new IllegalArgumentException("not a JWK set: " + e.getMessage());
        }
        List<JWK> keys = new ArrayList<>();
        for (JWK k : set.getKeys()) {
            if ((k instanceof RSAKey || k instanceof ECKey) && !KeyUse.ENCRYPTION.equals(k.getKeyUse())) {
                keys.add(k.toPublicJWK());
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("the JWK set holds no RSA or EC signing key");
        }
        return keys;
    }

    /**
     * @param pem a {@code PUBLIC KEY} (SubjectPublicKeyInfo) or a {@code CERTIFICATE} in PEM
     * @return the RSA or EC public key
     * @throws IllegalArgumentException if it is neither
     */
    public static PublicKey pem(String pem) {
        String type = pem.contains("-----BEGIN CERTIFICATE-----") ? "CERTIFICATE" : "PUBLIC KEY";
        int begin = pem.indexOf("-----BEGIN " + type + "-----");
        int end = pem.indexOf("-----END " + type + "-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("expected a PEM PUBLIC KEY or CERTIFICATE block");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(begin + type.length() + 16, end));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad base64 in the PEM block");
        }
        try {
            PublicKey key = type.equals("CERTIFICATE")
                    ? CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der))
                            .getPublicKey()
                    : publicKey(der);
            if (!(key instanceof RSAPublicKey) && !(key instanceof ECPublicKey)) {
                throw new IllegalArgumentException("only RSA and EC keys are supported, got " + key.getAlgorithm());
            }
            return key;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an RSA or EC public key: " + e.getMessage());
        }
    }

    private static PublicKey publicKey(byte[] der) throws GeneralSecurityException {
        try {
            return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
        }
    }

    /**
     * @param text a secret file's contents; one trailing line break is not part of the secret
     * @return the secret's bytes (UTF-8)
     * @throws IllegalArgumentException if shorter than {@link #MIN_SECRET_BYTES}
     */
    public static byte[] secret(String text) {
        String s = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("the secret must be at least " + MIN_SECRET_BYTES + " bytes (256 bits), "
                    + "got " + bytes.length);
        }
        return bytes;
    }

    /**
     * @param alg an algorithm name
     * @param key a public key
     * @return whether a signature by {@code alg} can be checked with {@code key}: RS and PS need RSA, ES256/384/512
     *     an EC key on P-256/384/521
     */
    public static boolean fits(String alg, PublicKey key) {
        if (key instanceof RSAPublicKey) {
            return alg.startsWith("RS") || alg.startsWith("PS");
        }
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return alg.equals("ES256") && bits == 256 || alg.equals("ES384") && bits == 384
                    || alg.equals("ES512") && bits == 521;
        }
        return false;
    }

    /** @return whether {@code alg} is an HMAC algorithm */
    public static boolean isHmac(String alg) {
        return JWSAlgorithm.Family.HMAC_SHA.contains(JWSAlgorithm.parse(alg));
    }
}
