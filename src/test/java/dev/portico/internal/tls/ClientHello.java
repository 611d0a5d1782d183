package dev.portico.internal.tls;

import java.io.ByteArrayOutputStream;

/**
 * A minimal TLS ClientHello written byte by byte, so a test can offer a version no JDK client offers any more. No
 * supported_versions extension: the legacy version field alone says what the client speaks (RFC 8446 4.1.2).
 */
final class ClientHello {
    /** Alert description protocol_version (RFC 8446 6.2). */
    static final int PROTOCOL_VERSION = 70;
    /** Alert description handshake_failure. */
    static final int HANDSHAKE_FAILURE = 40;

    private ClientHello() {
    }

    /** @return a ClientHello record offering {@code version} (0x0302 = TLS 1.1, 0x0303 = TLS 1.2) */
    static byte[] bytes(int version) {
        return bytes(version, null);
    }

    /**
     * @return a ClientHello record offering {@code version}, with a server_name extension naming {@code sni} as
     *     sent (even with a trailing dot, which the JDK client refuses to send), unless it is null
     */
    static byte[] bytes(int version, String sni) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(version >> 8);
        body.write(version);
        body.writeBytes(new byte[32]); // random
        body.write(0); // session id
        int[] suites = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xc013, 0xc014, 0x009c, 0x002f, 0x0035};
        u16(body, suites.length * 2);
        for (int s : suites) {
            u16(body, s);
        }
        body.write(1); // compression methods: null
        body.write(0);
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        if (sni != null) {
            byte[] name = sni.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            u16(ext, 0x0000); // server_name
            u16(ext, name.length + 5);
            u16(ext, name.length + 3);
            ext.write(0); // host_name
            u16(ext, name.length);
            ext.writeBytes(name);
        }
        extension(ext, 0x000a, new int[] {0x0017, 0x001d}, true); // supported_groups: secp256r1, x25519
        ext.writeBytes(new byte[] {0x00, 0x0b, 0x00, 0x02, 0x01, 0x00}); // ec_point_formats: uncompressed
        extension(ext, 0x000d, new int[] {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501}, true); // sig algs
        u16(body, ext.size());
        body.writeBytes(ext.toByteArray());

        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.write(0x16);
        u16(record, 0x0301);
        u16(record, body.size() + 4);
        record.write(1); // client_hello
        record.write(0);
        u16(record, body.size());
        record.writeBytes(body.toByteArray());
        return record.toByteArray();
    }

    private static void extension(ByteArrayOutputStream out, int type, int[] values, boolean listLength) {
        u16(out, type);
        u16(out, values.length * 2 + (listLength ? 2 : 0));
        if (listLength) {
            u16(out, values.length * 2);
        }
        for (int v : values) {
            u16(out, v);
        }
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >> 8);
        out.write(v);
    }
}
