package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The character classes and small grammars behind the head checks, at their boundaries. */
class HeadGrammarTest {

    @Test
    void hexDigitsAreExactlyZeroToNineAndAToFInEitherCase() {
        for (char c = 0; c < 128; c++) {
            boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            assertThat(RequestValidator.isHex(c)).as("char %d", (int) c).isEqualTo(hex);
        }
    }

    @Test
    void aHostRegNameTakesUnreservedSubDelimsAndPercentEncodingsOnly() {
        String allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=";
        for (char c = 0x21; c < 0x7f; c++) {
            boolean expected = allowed.indexOf(c) >= 0;
            assertThat(RequestValidator.validHost("a" + c + "b")).as("char %s", c).isEqualTo(expected);
        }
        assertThat(RequestValidator.validHost("a%2fb")).isTrue();
        assertThat(RequestValidator.validHost("a%2g")).isFalse();
        assertThat(RequestValidator.validHost("a%g2")).isFalse();
        assertThat(RequestValidator.validHost("a%2")).isFalse();
        assertThat(RequestValidator.validHost("%41")).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"'[::1]', true", "'[::1]:8080', true", "'[]', false", "'[:]', true", "'[::g]', false",
        "'[::1', false", "'[::1]x', false", "'a:', true", "':80', false", "'a:8a', false", "'a:/', false",
        "'a:09', true", "'[1.2.3.4]', true"})
    void hostsWithLiteralsAndPorts(String host, boolean valid) {
        assertThat(RequestValidator.validHost(host)).isEqualTo(valid);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"chunked | true", "CHUNKED | true", "' , chunked ,' | true",
        "gzip, chunked | false", "chunked, chunked | false", "'' | false", "', ,' | false", "xchunked | false"})
    void onlyChunkedMeansOneChunkedCodingAndNothingElse(String value, boolean expected) {
        assertThat(RequestValidator.onlyChunked(List.of(value))).isEqualTo(expected);
    }

    @Test
    void onlyChunkedCountsCodingsAcrossFields() {
        assertThat(RequestValidator.onlyChunked(List.of("chunked", "chunked"))).isFalse();
        assertThat(RequestValidator.onlyChunked(List.of("", "chunked"))).isTrue();
        assertThat(RequestValidator.onlyChunked(List.of())).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "5;a", "5;a=b", "5 ;a", "5; a", "5\t;\ta\t=\tb", "5;a=\"\"", "5;a=\"x y;z\"",
        "5;a=\"q\\\"\"", "5;a=b;c=d;e", "5;!#$%&'*+-.^_`|~=x", "5;a=\"\u00e9\""})
    void chunkLinesInTheGrammarPass(String line) {
        assertThat(scan(line + "\r\nhello\r\n0\r\n\r\n")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5;", "5; ", "5;a b", "5;a=", "5;a= ", "5;a=b ", "5;a ", "5 ", "5;=b", "5;a=b c",
        "5;a=\"\u0001\"", "5;a=\"x\"y", "5;a=\"x\" ", "5;a(b", "5;a=b(", "5;a=\"\\\u0001\"", "5;a=\"\u007f\"",
        "5;\"a\"", "5 x", "5;a=\"x\"\"", "5;a@"})
    void chunkLinesOutsideTheGrammarFail(String line) {
        assertThat(scan(line + "\r\nhello\r\n0\r\n\r\n")).isFalse();
    }

    @Test
    void theScannerSkipsChunkDataAndChecksEveryLaterLine() {
        assertThat(scan("3\r\n;;;\r\n2;ok\r\n\r\n\r\n0\r\n\r\n")).isTrue();
        assertThat(scan("3\r\n;;;\r\n2;bad \r\nab\r\n0\r\n\r\n")).isFalse();
        assertThat(scan("a\r\n0123456789\r\n0;x y\r\n\r\n")).isFalse();
        assertThat(scan("A\r\n0123456789\r\n0;x\r\n\r\n")).isTrue();
    }

    @Test
    void theScannerStopsAfterTheLastChunkAndAcrossReads() {
        assertThat(scan("0\r\nX-Trailer: a b\r\n\r\n")).isTrue();
        ChunkLineScanner scanner = new ChunkLineScanner();
        ByteBuf first = ascii("5;a");
        ByteBuf second = ascii(" b\r\nhello\r\n");
        try {
            assertThat(scanner.scan(first, 0, first.readableBytes())).isTrue();
            assertThat(scanner.scan(second, 0, second.readableBytes())).isFalse();
            scanner.reset();
            assertThat(scanner.scan(first, 0, first.readableBytes())).isTrue();
        } finally {
            first.release();
            second.release();
        }
    }

    @Test
    void anOverflowingSizeIsLeftToTheDecoder() {
        assertThat(scan("fffffffffffffffffff;a b\r\n")).isTrue();
    }

    private static boolean scan(String body) {
        ByteBuf buf = ascii(body);
        try {
            return new ChunkLineScanner().scan(buf, 0, buf.readableBytes());
        } finally {
            buf.release();
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void tokenCharactersAreExactlyThoseOfRfc9110() {
        String tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for (int b = -128; b < 128; b++) {
            assertThat(ChunkLineScanner.isTchar((byte) b)).as("byte %d", b).isEqualTo(b >= 0 && tchar.indexOf(b) >= 0);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"5;a=\"\u0000\"", "5;a=\"\\\u0000\"", "5;a=\"\\\u001f\"", "5x", "5\rx", "5;a\rx"})
    void nulAndOtherBytesOutsideTheGrammarFail(String line) {
        assertThat(scan(line + "\r\nhello\r\n0\r\n\r\n")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5;a=\"\\ \"", "5;a=\"\\\t\"", "5;a=\"\\\u00e9\"", "5;a=\" \"", "5;a=\"\t\"", "5;a=\"\u00ff\""})
    void quotedStringsTakeWhitespaceAndObsTextAlsoEscaped(String line) {
        assertThat(scan(line + "\r\nhello\r\n0\r\n\r\n")).isTrue();
    }

    @Test
    void theLargestSizeThatCannotOverflowIsStillFollowedByItsExtensions() {
        // 0x7ffffffffffffff0 is parsed to the end: its bad extension is caught, not left to the decoder.
        assertThat(scan("7ffffffffffffff0;a b\r\n")).isFalse();
        assertThat(scan("7ffffffffffffff0;a\r\n")).isTrue();
    }

    @Test
    void chunkDataSplitAcrossReadsIsSkippedByItsSizeOnly() {
        ChunkLineScanner scanner = new ChunkLineScanner();
        ByteBuf first = ascii("a\r\n01234");
        // The rest of the data looks like a bad chunk line; it is data, and the size line after it is checked.
        ByteBuf second = ascii("\n;;;\r\r\n0;x y\r\n\r\n");
        try {
            assertThat(scanner.scan(first, 0, first.readableBytes())).isTrue();
            assertThat(scanner.scan(second, 0, 5)).isTrue();
            assertThat(scanner.scan(second, 5, second.readableBytes())).isFalse();
        } finally {
            first.release();
            second.release();
        }
    }
}
