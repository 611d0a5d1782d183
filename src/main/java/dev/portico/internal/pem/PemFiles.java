package dev.portico.internal.pem;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM certificate chains and private keys without any library beyond the JDK: PKCS#8 keys as they are,
 * PKCS#1 RSA and SEC1 EC keys wrapped into PKCS#8 (a fixed DER prefix for RSA; the curve taken from the key for EC).
 * Every failure is an {@link IllegalArgumentException} whose message reads well after a key path.
 */
public final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** OID id-ecPublicKey (1.2.840.10045.2.1). */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02,
        0x01};

    private PemFiles() {
    }

    /**
     * @param file a PEM file with one or more certificates, the leaf first
     * @return the certificates in file order
     */
    public static List<X509Certificate> certificates(Path file) {
        String text = read(file);
        List<X509Certificate> result = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            Matcher m = BLOCK.matcher(text);
            while (m.find()) {
                if (m.group(1).equals("CERTIFICATE")) {
                    Certificate c = factory.generateCertificate(new ByteArrayInputStream(decode(m.group(2), file)));
                    result.add((X509Certificate) c);
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a valid certificate in \"" + file + "\": " + e.getMessage());
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException("no PEM certificate (BEGIN CERTIFICATE) in \"" + file + "\"");
        }
        // A file cut short (a copy or an update caught halfway) would otherwise serve a shorter chain.
        int begun = count(text, "-----BEGIN CERTIFICATE-----");
        if (begun > result.size()) {
            throw new IllegalArgumentException("certificate " + (result.size() + 1) + " in \"" + file
                    + "\" is cut off or malformed (BEGIN CERTIFICATE without its END CERTIFICATE)");
        }
        return result;
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /**
     * @param file a PEM file with one unencrypted private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC)
     * @return the key
     */
    public static PrivateKey privateKey(Path file) {
        String text = read(file);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            byte[] der = decode(m.group(2), file);
            try {
                switch (type) {
                    case "PRIVATE KEY":
                        return pkcs8(der);
                    case "RSA PRIVATE KEY":
                        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                                sequence(integer0(), RSA_ALGORITHM, octetString(der))));
                    case "EC PRIVATE KEY":
                        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                                sequence(integer0(), sequence(EC_PUBLIC_KEY_OID, ecCurve(der)), octetString(der))));
                    case "ENCRYPTED PRIVATE KEY":
                        throw new IllegalArgumentException("the key in \"" + file
                                + "\" is encrypted; give an unencrypted key (openssl pkey -in KEY -out PLAIN)");
                    default:
                        break; // e.g. EC PARAMETERS before an EC key: skip
                }
            } catch (GeneralSecurityException | IndexOutOfBoundsException e) {
                throw new IllegalArgumentException("not a valid " + type + " in \"" + file + "\": " + e.getMessage());
            }
        }
        throw new IllegalArgumentException("no PEM private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
                + " in \"" + file + "\"");
    }

    /**
     * Checks that {@code key} belongs to {@code certificate} by signing and verifying a few bytes, so a
     * certificate replaced before its key is refused instead of failing every handshake.
     *
     * @param certificate the leaf certificate
     * @param key the private key
     */
    public static void checkPair(X509Certificate certificate, PrivateKey key) {
        PublicKey pub = certificate.getPublicKey();
        if (!pub.getAlgorithm().equals(key.getAlgorithm())) {
            throw new IllegalArgumentException("the key is " + key.getAlgorithm() + " but the certificate's is "
                    + pub.getAlgorithm());
        }
        String algorithm;
        switch (key.getAlgorithm()) {
            case "EC":
                algorithm = "SHA256withECDSA";
                break;
            case "RSA":
                algorithm = "SHA256withRSA";
                break;
            case "Ed25519":
            case "Ed448":
                algorithm = key.getAlgorithm();
                break;
            default:
                return; // e.g. RSASSA-PSS: its parameters would have to be matched too; the handshake will tell
        }
        try {
            byte[] probe = "portico key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(pub);
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new IllegalArgumentException("the key does not match the certificate");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the key does not match the certificate: " + e.getMessage());
        }
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : new String[] {"RSA", "EC", "RSASSA-PSS", "Ed25519", "Ed448"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /** The named-curve OID in a SEC1 ECPrivateKey's {@code [0]} parameters. */
    private static byte[] ecCurve(byte[] sec1) {
        int[] seq = header(sec1, 0);            // SEQUENCE
        int pos = seq[0];
        int end = pos + seq[1];
        while (pos < end) {
            int tag = sec1[pos] & 0xff;
            int[] h = header(sec1, pos);
            if (tag == 0xa0) {                  // [0] ECParameters: namedCurve OID
                int[] oid = header(sec1, h[0]);
                byte[] out = new byte[oid[0] + oid[1] - h[0]];
                System.arraycopy(sec1, h[0], out, 0, out.length);
                return out;
            }
            pos = h[0] + h[1];
        }
        throw new IllegalArgumentException("the EC key names no curve; convert it to PKCS#8 "
                + "(openssl pkcs8 -topk8 -nocrypt)");
    }

    /** @return {start of content, content length} of the DER element at {@code pos} */
    private static int[] header(byte[] der, int pos) {
        int len = der[pos + 1] & 0xff;
        int start = pos + 2;
        if (len >= 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[start + i] & 0xff);
            }
            start += n;
        }
        if (len < 0 || start + len > der.length) {
            throw new IndexOutOfBoundsException("truncated DER");
        }
        return new int[] {start, len};
    }

    private static byte[] integer0() {
        return new byte[] {0x02, 0x01, 0x00};
    }

    private static byte[] octetString(byte[] content) {
        return tlv(0x04, content);
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return tlv(0x30, out.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] decode(String base64, Path file) {
        try {
            return Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad base64 in \"" + file + "\"");
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read \"" + file + "\": No such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read \"" + file + "\": " + e.getMessage());
        }
    }
}
