package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.AsciiString;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How response header fields are represented in HPACK (RFC 7541 section 6), read off the wire: the request id, new
 * on every response, is a literal never indexed, so the fields that repeat stay in the dynamic table.
 */
@Timeout(60)
class Http2HpackTest {
    private static final int RESPONSES = 120; // the ids of about 50 would fill the 4,096-byte table if indexed

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.start((req, ctx) ->
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "ok")));

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void theRequestIdIsNeverIndexedAndTheRepeatedFieldsStayIndexed() throws Exception {
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/", backend.url()).build());
        List<Map<String, Kind>> responses = exchange(RESPONSES);

        assertThat(responses).hasSize(RESPONSES);
        for (Map<String, Kind> fields : responses) {
            assertThat(fields).containsEntry("x-request-id", Kind.NEVER_INDEXED);
        }
        // From the second response on, via and content-type come whole from the dynamic table every time: no id
        // pushed them out.
        for (Map<String, Kind> fields : responses.subList(1, RESPONSES)) {
            assertThat(fields).containsEntry("via", Kind.INDEXED).containsEntry("content-type", Kind.INDEXED);
        }
    }

    /** Sends {@code n} GETs one after the other on one cleartext HTTP/2 connection; returns each response's fields. */
    private List<Map<String, Kind>> exchange(int n) throws Exception {
        List<Map<String, Kind>> out = new ArrayList<>();
        Http2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
        DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
        try (Socket s = new Socket("127.0.0.1", portico.port())) {
            s.setSoTimeout(10_000);
            DataOutputStream os = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            os.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            frame(os, Http2FrameTypes.SETTINGS, 0, 0, new byte[0]);
            for (int i = 0; i < n; i++) {
                int stream = 2 * i + 1;
                Http2Headers request = new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET")
                        .scheme("http").path("/r" + i).authority("127.0.0.1");
                ByteBuf block = Unpooled.buffer();
                encoder.encodeHeaders(stream, request, block);
                byte[] bytes = new byte[block.readableBytes()];
                block.readBytes(bytes);
                block.release();
                frame(os, Http2FrameTypes.HEADERS, 0x4 | 0x1, stream, bytes); // END_HEADERS, END_STREAM
                out.add(responseHead(in, os, stream, decoder));
            }
        }
        return out;
    }

    private static void frame(DataOutputStream os, byte type, int flags, int stream, byte[] payload)
            throws java.io.IOException {
        os.writeByte(payload.length >>> 16);
        os.writeShort(payload.length & 0xffff);
        os.writeByte(type);
        os.writeByte(flags);
        os.writeInt(stream);
        os.write(payload);
        os.flush();
    }

    /** Reads frames up to the HEADERS of {@code stream}: its field names and how each was represented. */
    private static Map<String, Kind> responseHead(DataInputStream in, DataOutputStream os, int stream,
                                                  DefaultHttp2HeadersDecoder decoder) throws Exception {
        while (true) {
            int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            int id = in.readInt();
            byte[] payload = in.readNBytes(length);
            if (type == Http2FrameTypes.SETTINGS && (flags & 0x1) == 0) {
                frame(os, Http2FrameTypes.SETTINGS, 0x1, 0, new byte[0]); // ACK
            }
            if (type != Http2FrameTypes.HEADERS || id != stream) {
                continue;
            }
            assertThat(flags & 0x4).as("END_HEADERS: the block fits one frame").isNotZero();
            ByteBuf block = Unpooled.wrappedBuffer(payload);
            Http2Headers decoded = decoder.decodeHeaders(stream, block);
            block.release();
            List<Kind> kinds = kinds(payload);
            Map<String, Kind> fields = new LinkedHashMap<>();
            int i = 0;
            for (Map.Entry<CharSequence, CharSequence> e : decoded) { // in the block's order
                fields.put(AsciiString.of(e.getKey()).toString(), kinds.get(i++));
            }
            assertThat(i).isEqualTo(kinds.size());
            return fields;
        }
    }

    /** How a field is represented (RFC 7541 section 6). */
    enum Kind { INDEXED, INCREMENTAL, NOT_INDEXED, NEVER_INDEXED }

    /** The representation of each field in a header block, in order (dynamic table size updates skipped). */
    private static List<Kind> kinds(byte[] block) {
        List<Kind> kinds = new ArrayList<>();
        int[] pos = {0};
        while (pos[0] < block.length) {
            int b = block[pos[0]] & 0xff;
            if ((b & 0x80) != 0) {
                integer(block, pos, 7);
                kinds.add(Kind.INDEXED);
            } else if ((b & 0xc0) == 0x40) {
                literal(block, pos, 6);
                kinds.add(Kind.INCREMENTAL);
            } else if ((b & 0xe0) == 0x20) {
                integer(block, pos, 5); // dynamic table size update: not a field
            } else {
                kinds.add((b & 0xf0) == 0x10 ? Kind.NEVER_INDEXED : Kind.NOT_INDEXED);
                literal(block, pos, 4);
            }
        }
        return kinds;
    }

    /** Passes over a literal field: its name index, the name itself if the index is 0, and its value. */
    private static void literal(byte[] block, int[] pos, int prefix) {
        if (integer(block, pos, prefix) == 0) {
            string(block, pos);
        }
        string(block, pos);
    }

    private static void string(byte[] block, int[] pos) {
        int length = integer(block, pos, 7); // the Huffman bit is above the 7-bit length prefix
        pos[0] += length;
    }

    /** Reads an integer with an N-bit prefix (RFC 7541 section 5.1). */
    private static int integer(byte[] block, int[] pos, int prefix) {
        int max = (1 << prefix) - 1;
        int value = block[pos[0]++] & max;
        if (value < max) {
            return value;
        }
        int shift = 0;
        int b;
        do {
            b = block[pos[0]++] & 0xff;
            value += (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return value;
    }
}
