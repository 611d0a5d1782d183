package dev.portico.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.fuzz.StrictHttpParser.Complete;
import dev.portico.fuzz.StrictHttpParser.Incomplete;
import dev.portico.fuzz.StrictHttpParser.Invalid;
import dev.portico.fuzz.StrictHttpParser.Mode;
import dev.portico.fuzz.StrictHttpParser.Reason;
import dev.portico.fuzz.StrictHttpParser.Result;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fuzzer's oracle must itself be right: what it accepts, what it rejects and why, and where requests end. */
class StrictHttpParserTest {
    private static Result parse(String s, Mode mode) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        return StrictHttpParser.parse(b, 0, b.length, mode);
    }

    @Test
    void everySeedIsAStrictlyValidClientRequestSequence() {
        for (FuzzInputs.Seed seed : FuzzInputs.SEEDS) {
            List<Result> all = StrictHttpParser.parseAll(seed.bytes(), Mode.CLIENT, java.util.Set.of());
            assertThat(all).as(seed.name()).allMatch(r -> r instanceof Complete);
            int total = all.stream().mapToInt(r -> ((Complete) r).request().length()).sum();
            assertThat(total).as(seed.name()).isEqualTo(seed.bytes().length);
        }
    }

    @Test
    void parsesAChunkedBodyWithExtensionsAndTrailers() {
        Complete c = (Complete) parse(FuzzInputs.SEEDS.get(2).text(), Mode.CLIENT);
        assertThat(new String(c.request().body(), StandardCharsets.ISO_8859_1)).isEqualTo("hello world");
        assertThat(c.request().trailers()).extracting(StrictHttpParser.Field::value).containsExactly("abc");
    }

    @Test
    void reducesAbsoluteFormToOriginForm() {
        Complete c = (Complete) parse("GET http://h.test?q HTTP/1.1\r\nHost: x\r\n\r\n", Mode.CLIENT);
        assertThat(c.request().originForm()).isEqualTo("/?q");
        assertThat(c.request().authority()).isEqualTo("h.test");
        assertThat(parse("GET http://h.test/ HTTP/1.1\r\nHost: x\r\n\r\n", Mode.UPSTREAM))
                .isInstanceOf(Invalid.class);
    }

    @Test
    void tellsIncompleteFromInvalid() {
        assertThat(parse("GET / HTTP/1.1\r\nHost: a\r\n", Mode.CLIENT)).isInstanceOf(Incomplete.class);
        assertThat(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab", Mode.CLIENT))
                .isInstanceOf(Incomplete.class);
        assertThat(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", Mode.CLIENT))
                .isInstanceOf(Incomplete.class);
    }

    @Test
    void readsPastToleratedReasonsTheWayALenientRecipientWould() {
        String s = "\r\n\r GET\t/a%zz  HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;a b\r\nabc\r\n0\r\nbad trailer\r\nX-T: 1\r\n\r\n";
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        Complete c = (Complete) StrictHttpParser.parse(b, 0, b.length, Mode.CLIENT, StrictHttpParser.TOLERABLE);
        assertThat(c.request().target()).isEqualTo("/a%zz");
        assertThat(c.request().body()).isEqualTo("abc".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(c.request().trailers()).hasSize(1);
        assertThat(c.request().length()).isEqualTo(b.length);
        assertThat(c.request().tolerated()).containsExactly(Reason.LEADING_JUNK, Reason.BAD_REQUEST_LINE,
                Reason.BAD_TARGET, Reason.BAD_CHUNK_EXT, Reason.BAD_TRAILER);
        assertThat(StrictHttpParser.parse(b, 0, b.length, Mode.CLIENT)).isInstanceOf(Invalid.class);
    }

    @ParameterizedTest(name = "{1}: {0}")
    @CsvSource(delimiter = '|', value = {
        "GET / HTTP/1.1\\nHost: a\\n\\n|BARE_LF",
        "GET / HTTP/1.1\\r\\nHost: a\\rX: b\\r\\n\\r\\n|BARE_CR",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nX: a\\r\\n b\\r\\n\\r\\n|OBS_FOLD",
        "GET / HTTP/1.1\\r\\nHost : a\\r\\n\\r\\n|WS_IN_FIELD_NAME",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nX: a\\u0000b\\r\\n\\r\\n|CTL_IN_VALUE",
        "GET  / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|BAD_REQUEST_LINE",
        "GET / HTTP/1.2\\r\\nHost: a\\r\\n\\r\\n|BAD_VERSION",
        "GET / HTTP/1.1\\r\\n\\r\\n|HOST_MISSING",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nhost: b\\r\\n\\r\\n|HOST_REPEATED",
        "GET / HTTP/1.1\\r\\nHost: a:b\\r\\n\\r\\n|BAD_HOST",
        "GET http://a<b/ HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|BAD_HOST",
        "GET /a#b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|TARGET_CHARS",
        "GET /a%zz HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n|BAD_TARGET",
        "GET / HTTP/1.1\\r\\nHost: a\\r\\nX\u00e9: a\\r\\n\\r\\n|BAD_FIELD_NAME",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n|CL_AND_TE",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: +1\\r\\n\\r\\nx|BAD_CONTENT_LENGTH",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1\\r\\nContent-Length: 2\\r\\n\\r\\nxy|CL_CONFLICT",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1\\r\\nContent-Length: 1\\r\\n\\r\\nx|CL_DUPLICATE",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n|TE_NOT_CHUNKED",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1x\\r\\na\\r\\n0\\r\\n\\r\\n|BAD_CHUNK_EXT",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nx\\r\\na\\r\\n0\\r\\n\\r\\n|BAD_CHUNK_SIZE",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\nab\\r\\n0\\r\\n\\r\\n|BAD_CHUNK_LINE_END",
        "POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n1\\r\\nab\\r\\n0\\r\\n\\r\\n|BAD_CHUNK_DATA_END",
    })
    void rejectsWithTheRightReason(String request, Reason reason) {
        String s = request.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0000", "\u0000");
        assertThat(parse(s, Mode.CLIENT)).isInstanceOfSatisfying(Invalid.class,
                i -> assertThat(i.reason()).isEqualTo(reason));
    }
}
