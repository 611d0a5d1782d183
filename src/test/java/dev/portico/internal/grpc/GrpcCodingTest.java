package dev.portico.internal.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The pure parts of gRPC handling: content types, grpc-timeout, the status table, and the streaming codings. */
class GrpcCodingTest {
    @ParameterizedTest
    @CsvSource({"application/grpc,GRPC", "application/grpc+proto,GRPC", "Application/GRPC;charset=x,GRPC",
        "application/grpc-web,WEB", "application/grpc-web+proto,WEB", "application/grpc-web-text,WEB_TEXT",
        "application/grpc-web-text+proto,WEB_TEXT", "application/grpcx,", "application/grpc-webby,",
        "application/grpc-web-textual,", "text/plain,", "application/json,"})
    void contentTypesAreClassified(String type, GrpcKind expected) {
        HttpHeaders h = new DefaultHttpHeaders().set("content-type", type);
        assertThat(GrpcKind.of(h)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"200m,200000000", "5S,5000000000", "1H,3600000000000", "2M,120000000000", "7u,7000", "9n,9",
        "99999999n,99999999", "0m,0"})
    void grpcTimeoutValuesAreParsed(String value, long nanos) {
        assertThat(GrpcTimeout.parseNanos(value)).isEqualTo(nanos);
    }

    @ParameterizedTest
    @CsvSource({"''", "m", "123456789m", "5s", "5", "-5S", "1.5S", "5 S", "S5"})
    void malformedGrpcTimeoutsCountAsAbsent(String value) {
        assertThat(GrpcTimeout.parseNanos(value)).isEqualTo(-1);
    }

    @Test
    void remainingBudgetsAreFormattedInMillisecondsWhereTheyFit() {
        assertThat(GrpcTimeout.format(TimeUnit.MILLISECONDS.toNanos(1234) + 999)).isEqualTo("1234m");
        assertThat(GrpcTimeout.format(999_999)).isEqualTo("999999n");
        assertThat(GrpcTimeout.format(-5)).isEqualTo("0n");
        assertThat(GrpcTimeout.format(TimeUnit.DAYS.toNanos(1))).isEqualTo("86400000m");
        assertThat(GrpcTimeout.format(TimeUnit.DAYS.toNanos(2))).isEqualTo("172800S"); // 9 digits of ms: seconds
        assertThat(GrpcTimeout.format(TimeUnit.DAYS.toNanos(2000))).isEqualTo("2880000M");
        for (long n : new long[] {1, 1_000_000, 123_456_789_012L, TimeUnit.DAYS.toNanos(2000)}) {
            assertThat(GrpcTimeout.parseNanos(GrpcTimeout.format(n))).isBetween(n - 60_000_000_000L, n);
        }
    }

    @ParameterizedTest
    @CsvSource({"400,13", "401,16", "403,7", "404,12", "429,14", "502,14", "503,14", "504,14", "500,2", "413,2",
        "308,2"})
    void httpStatusesMapAsGrpcsTableSays(int http, int grpc) {
        assertThat(GrpcStatus.fromHttp(http)).isEqualTo(grpc);
    }

    @Test
    void grpcMessageIsPercentEncoded() {
        assertThat(GrpcStatus.encodeMessage("a b: 100% ok")).isEqualTo("a b: 100%25 ok");
        assertThat(GrpcStatus.encodeMessage("caf\u00e9\n")).isEqualTo("caf%C3%A9%0A");
    }

    @Test
    void aSuccessfulAnswerIsNotTranslated() {
        FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        assertThat(GrpcAnswers.translate(GrpcKind.GRPC, "application/grpc", ok, -1)).isSameAs(ok);
        ok.release();
    }

    @Test
    void anErrorAnswerBecomesTrailersOnlyKeepingOtherFields() {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN,
                Unpooled.copiedBuffer("<html>no</html>", StandardCharsets.UTF_8));
        r.headers().set("content-type", "text/html").set("x-request-id", "abc").setInt("content-length", 15);
        FullHttpResponse g = GrpcAnswers.translate(GrpcKind.GRPC, "application/grpc+proto", r, -1);
        assertThat(g.status().code()).isEqualTo(200);
        assertThat(g.content().readableBytes()).isZero();
        assertThat(g.headers().get("content-type")).isEqualTo("application/grpc+proto");
        assertThat(g.headers().get("grpc-status")).isEqualTo("7");
        assertThat(g.headers().get("grpc-message")).isEqualTo("403 Forbidden");
        assertThat(g.headers().get("x-request-id")).isEqualTo("abc");
        assertThat(g.headers().getInt("content-length")).isZero();
        assertThat(r.refCnt()).isZero();
        g.release();
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    @Test
    void base64IsDecodedWhateverTheSplitsAndWithPaddingInside() {
        byte[] a = "first message".getBytes(StandardCharsets.UTF_8);
        byte[] b = "second!".getBytes(StandardCharsets.UTF_8);
        String text = Base64.getEncoder().encodeToString(a) + Base64.getEncoder().encodeToString(b);
        for (int split = 1; split < text.length() - 1; split++) {
            Base64Stream s = new Base64Stream();
            byte[] one = bytes(s.next(Unpooled.copiedBuffer(text.substring(0, split), StandardCharsets.US_ASCII)));
            byte[] two = bytes(s.next(Unpooled.copiedBuffer(text.substring(split), StandardCharsets.US_ASCII)));
            byte[] all = new byte[one.length + two.length];
            System.arraycopy(one, 0, all, 0, one.length);
            System.arraycopy(two, 0, all, one.length, two.length);
            assertThat(new String(all, StandardCharsets.UTF_8)).isEqualTo("first messagesecond!");
            assertThat(s.complete()).isTrue();
        }
        Base64Stream cut = new Base64Stream();
        cut.next(Unpooled.copiedBuffer("QUJD", StandardCharsets.US_ASCII)).release();
        cut.next(Unpooled.copiedBuffer("QU", StandardCharsets.US_ASCII)).release();
        assertThat(cut.complete()).isFalse();
        assertThat(new Base64Stream().next(Unpooled.copiedBuffer("QU*D", StandardCharsets.US_ASCII))).isNull();
        assertThat(new Base64Stream().next(Unpooled.copiedBuffer("Q=JD", StandardCharsets.US_ASCII))).isNull();
    }

    @Test
    void theTextResponseEncodesAcrossPartsAndEndsWithATrailerFrameOfItsOwn() {
        GrpcWebResponse t = new GrpcWebResponse(ByteBufAllocator.DEFAULT, true,
                List.of(Map.entry("grpc-status", "0")));
        byte[] body = "0123456789abcdefg".getBytes(StandardCharsets.US_ASCII);
        StringBuilder out = new StringBuilder();
        int[] cuts = {0, 1, 2, 7, 8, 17};
        for (int i = 0; i + 1 < cuts.length; i++) {
            out.append(new String(bytes(t.next(Unpooled.wrappedBuffer(body, cuts[i], cuts[i + 1] - cuts[i]))),
                    StandardCharsets.US_ASCII));
            out.append(new String(bytes(t.flush()), StandardCharsets.US_ASCII));
        }
        HttpHeaders trailers = new DefaultHttpHeaders().set("X-Custom", "v");
        assertThat(t.takeTrailers(trailers)).isTrue();
        out.append(new String(bytes(t.finish()), StandardCharsets.US_ASCII));
        t.close();
        byte[] block = "grpc-status:0\r\nx-custom:v\r\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuf f = Unpooled.buffer().writeByte(0x80).writeInt(block.length).writeBytes(block);
        assertThat(out.toString()).isEqualTo(Base64.getEncoder().encodeToString(body)
                + Base64.getEncoder().encodeToString(bytes(f)));
    }
}
