package dev.portico.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/** The valid requests the fuzzer starts from, and the jqwik arbitraries of mutated inputs. */
final class FuzzInputs {
    /** A seed request, by name. */
    record Seed(String name, String text) {
        byte[] bytes() {
            return text.getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    /** A seed and the mutations applied to it in sequence. */
    record Case(Seed seed, List<Mutation> mutations) {
        byte[] bytes() {
            byte[] b = seed.bytes();
            for (Mutation m : mutations) {
                b = m.apply(b);
            }
            return b;
        }

        @Override
        public String toString() {
            return seed.name() + " " + mutations + " => \"" + Wire.escape(bytes(), 2000) + "\"";
        }
    }

    static final List<Seed> SEEDS = List.of(
            new Seed("get", "GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: example.test\r\nUser-Agent: fuzz/1.0\r\n"
                    + "Accept: */*\r\nX-List: a, b;q=0.5\r\nCookie: k=v\r\n\r\n"),
            new Seed("post-length", "POST /submit HTTP/1.1\r\nHost: example.test\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nhello=world"),
            new Seed("post-chunked", "POST /upload HTTP/1.1\r\nHost: example.test:8080\r\nTransfer-Encoding: chunked\r\n"
                    + "Trailer: X-Checksum\r\n\r\n5;ext=1\r\nhello\r\n6;name=\"q v\";flag\r\n world\r\n"
                    + "0\r\nX-Checksum: abc\r\n\r\n"),
            new Seed("head", "HEAD /status HTTP/1.1\r\nHost: example.test\r\nAccept: text/plain\r\n\r\n"),
            new Seed("absolute-form", "GET http://example.test/abs/path?q=1 HTTP/1.1\r\nHost: example.test\r\n"
                    + "Accept: */*\r\n\r\n"),
            new Seed("http10", "GET /legacy HTTP/1.0\r\nUser-Agent: old/0.9\r\nAccept: */*\r\n\r\n"),
            new Seed("pipelined", "GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n"
                    + "PUT /second HTTP/1.1\r\nHost: example.test\r\nContent-Length: 3\r\n\r\nabc"),
            new Seed("chunked-then-get", "POST /c HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\nabc\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: example.test\r\n\r\n"),
            new Seed("expect-continue", "PUT /e HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\n"
                    + "Content-Length: 4\r\n\r\ndata"),
            new Seed("http10-keep-alive", "POST /old HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc"
                    + "OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n"),
            new Seed("delete-empty", "DELETE /item/7 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\n"
                    + "Connection: keep-alive, X-Hop\r\nX-Hop: dropped\r\n\r\n"));

    private FuzzInputs() {
    }

    /** Bytes a mutation inserts: mostly the ones parsers disagree about, sometimes any byte. */
    static Arbitrary<Byte> interestingBytes() {
        Arbitrary<Byte> special = Arbitraries.of((byte) ' ', (byte) '\t', (byte) '\r', (byte) '\n', (byte) 0,
                (byte) ':', (byte) ',', (byte) '"', (byte) 0x0b, (byte) 0x0c, (byte) 0x80, (byte) 0xff, (byte) ';',
                (byte) '=', (byte) '\\', (byte) 0x7f, (byte) '0', (byte) 'a', (byte) '/', (byte) '?', (byte) '#');
        return Arbitraries.frequencyOf(Tuple.of(3, special), Tuple.of(1, Arbitraries.bytes()));
    }

    static Arbitrary<Mutation> mutation() {
        Arbitrary<Integer> pos = Arbitraries.integers().between(0, 4095);
        Arbitrary<Integer> small = Arbitraries.integers().between(0, 15);
        return Arbitraries.frequencyOf(
                Tuple.of(3, Combinators.combine(pos, interestingBytes()).as(Mutation.Insert::new)),
                Tuple.of(2, pos.map(Mutation.Delete::new)),
                Tuple.of(1, Combinators.combine(pos, Arbitraries.integers().between(1, 48))
                        .as(Mutation.DuplicateRange::new)),
                Tuple.of(2, small.map(Mutation.DuplicateHeaderLine::new)),
                Tuple.of(1, pos.map(Mutation.SwapCase::new)),
                Tuple.of(3, Combinators.combine(small, Arbitraries.of(Mutation.Whitespace.Kind.class))
                        .as(Mutation.Whitespace::new)),
                Tuple.of(2, Combinators.combine(small, Arbitraries.of(Mutation.ChangeNumber.Variant.class))
                        .as(Mutation.ChangeNumber::new)),
                Tuple.of(3, Combinators.combine(small, Arbitraries.of(Mutation.AddHeader.LINES))
                        .as(Mutation.AddHeader::new)));
    }

    static Arbitrary<Case> cases() {
        return Combinators.combine(Arbitraries.of(SEEDS), mutation().list().ofMinSize(0).ofMaxSize(4))
                .as(Case::new);
    }
}
