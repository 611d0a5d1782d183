package dev.portico.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The data-file loader and the expectation reader of the conformance corpus. */
class VectorTest {
    @Test
    void decodesEscapesRepeatsAndPlaceholders() {
        byte[] b = Vector.decode("a\\r\\n\\t\\\\\\x00\\xff{repeat:3:x\\r}{h:v}{p}",
                Map.of("h:", "<$>", "p", "P\\n"));

        assertThat(b).isEqualTo(new byte[] {'a', '\r', '\n', '\t', '\\', 0, (byte) 0xff, 'x', '\r', 'x', '\r', 'x',
            '\r', '<', 'v', '>', 'P', '\n'});
    }

    @Test
    void nestsRepeats() {
        assertThat(new String(Vector.decode("{repeat:2:<{repeat:3:y}>}", Map.of()), StandardCharsets.ISO_8859_1))
                .isEqualTo("<yyy><yyy>");
    }

    @Test
    void parsesBlocksWithCommentsAndContinuationLines() {
        List<Vector> vs = Vector.parse("t.txt", """
                # a comment
                name: one
                rfc: RFC 9112 3
                request: GET / HTTP/1.1\\r\\n
                   Host: a\\r\\n\\r\\n
                status: 400 200
                close: true
                backend: nothing
                ===
                name: two
                rfc: RFC 9110 8.6
                request: x
                status: 200
                close: false
                backend: incomplete
                known_failure: because
                """);

        assertThat(vs).hasSize(2);
        assertThat(new String(vs.get(0).request(), StandardCharsets.ISO_8859_1))
                .isEqualTo("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(vs.get(0).statuses()).containsExactly(400, 200);
        assertThat(vs.get(0).close()).isTrue();
        assertThat(vs.get(1).knownFailure()).isEqualTo("because");
        assertThat(vs.get(1).toString()).isEqualTo("t/two");
    }

    @Test
    void rejectsABlockWithAMissingOrUnknownField() {
        assertThatThrownBy(() -> Vector.parse("t.txt", "name: x\nrfc: y\nrequest: z\nstatus: 200\nclose: true\n"))
                .hasMessageContaining("missing field backend");
        assertThatThrownBy(() -> Vector.parse("t.txt", "name: x\nstatuss: 1\n"))
                .hasMessageContaining("unknown field statuss");
    }

    @Test
    void comparesExpectationsInCanonicalForm() throws Exception {
        List<WireRequest> a = WireRequest.parseAll(Vector.decode("POST /x HTTP/1.1\\r\\nHost: a\\r\\nX-B: 1\\r\\n"
                + "Transfer-Encoding: chunked\\r\\n\\r\\n2\\r\\nhe\\r\\n3;e=1\\r\\nllo\\r\\n0\\r\\nT: 1\\r\\n\\r\\n",
                Map.of()));
        List<WireRequest> b = WireRequest.parseAll(Vector.decode("POST /x HTTP/1.1\\r\\ntransfer-encoding: chunked"
                + "\\r\\nx-b:   1\\r\\nhost: a\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\nt: 1\\r\\n\\r\\n", Map.of()));

        assertThat(a).hasSize(1);
        assertThat(a.get(0).canonical()).isEqualTo(b.get(0).canonical());
        assertThatThrownBy(() -> WireRequest.parseAll("GET / HTTP/1.1\nHost: a\n\n".getBytes(
                StandardCharsets.US_ASCII))).isInstanceOf(WireRequest.Malformed.class);
    }

    @Test
    void theCorpusHasAtLeast80VectorsWithUniqueNames() {
        List<Vector> all = Vector.loadAll();
        Set<String> names = new HashSet<>();

        assertThat(all.size()).as("vectors in the corpus").isGreaterThanOrEqualTo(80);
        assertThat(all).allMatch(v -> names.add(v.toString()), "names are unique");
    }
}
