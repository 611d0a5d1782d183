package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AcceptEncodingTest {
    private static final List<String> DEFAULT = List.of("zstd", "br", "gzip");

    /** Expected "-" means identity (no coding). The field value is one Accept-Encoding line. */
    @ParameterizedTest(name = "[{index}] \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
        // plain lists: equal weights, so Portico's preference decides
        "gzip, deflate, br, zstd           | zstd",
        "gzip, deflate, br                 | br",
        "gzip                              | gzip",
        "GZIP                              | gzip",
        "x-gzip                            | gzip",
        "deflate                           | -",
        "compress, deflate                 | -",
        // q-values decide before preference
        "gzip;q=1, br;q=0.1                | gzip",
        "gzip;q=0.5, br;q=0.4, zstd;q=0.3  | gzip",
        "br;q=0.9, gzip;q=1.0              | gzip",
        "zstd;q=0.001, br;q=0.002          | br",
        "gzip;q=0.5, br;q=0.5              | br",
        "gzip ; q=0.8 , br ;q=0.7          | gzip",
        "gzip;Q=0.8, br;q=0.7              | gzip",
        // q=0 excludes
        "gzip;q=0                          | -",
        "br;q=0, gzip                      | gzip",
        "zstd;q=0.000, br;q=0, gzip;q=0.1  | gzip",
        "gzip;q=0, *                       | zstd",
        "*;q=0, gzip                       | gzip",
        // the wildcard covers what is not listed
        "*                                 | zstd",
        "*;q=0.5, gzip                     | gzip",
        "*;q=0.5, zstd;q=0.4               | br",
        "*;q=0                             | -",
        // identity competes when weighed
        "identity                          | -",
        "identity;q=0                      | -",
        "identity;q=0, gzip;q=0.2          | gzip",
        "gzip;q=0.5, identity              | -",
        "gzip;q=0.5, identity;q=0.5        | gzip",
        "gzip;q=0.5, *;q=0.6               | zstd",
        "gzip;q=0.5, *;q=0.4               | gzip",
        "gzip;q=0.5                        | gzip",
        "identity;q=0.9, br;q=1            | br",
        // malformed members count for nothing; the rest still counts
        "gzip;q=1.5, br                    | br",
        "gzip;q=0.1234, br;q=0.1           | br",
        "gzip;q=abc                        | -",
        "gzip;q=                           | -",
        "gzip;level=9                      | -",
        "gzip;q=0.5;x=1, br;q=0.1          | br",
        "gzip;q=1.001                      | -",
        "gzip;q=-0.5                       | -",
        "'g zip, br;q=0.3'                 | br",
        "',,gzip,,'                        | gzip",
        "br;q=1., gzip;q=0.                | br",
        // the first weight of a coding listed twice counts
        "gzip;q=0, gzip                    | -",
        "gzip, gzip;q=0                    | gzip",
        // empty field: identity only
        "''                                | -",
    })
    void negotiatesWithExactQValuesAndPorticosPreferenceOnTies(String field, String expected) {
        assertThat(AcceptEncoding.negotiate(List.of(field), DEFAULT)).isEqualTo(expected.equals("-") ? null : expected);
    }

    @ParameterizedTest(name = "[{index}] {0} offered {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        "gzip, br, zstd     | gzip br     | gzip",
        "gzip, br, zstd     | br gzip     | br",
        "zstd               | br gzip     | -",
        "*                  | gzip        | gzip",
        "gzip;q=0.9, zstd   | gzip        | gzip",
    })
    void choosesOnlyAmongTheOfferedEncodingsInTheirOrder(String field, String offered, String expected) {
        List<String> offer = List.of(offered.split(" "));
        assertThat(AcceptEncoding.negotiate(List.of(field), offer)).isEqualTo(expected.equals("-") ? null : expected);
    }

    @ParameterizedTest(name = "[{index}] lines {0} / {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        "gzip;q=0.2   | br;q=0.3   | br",
        "br;q=0       | gzip       | gzip",
        "identity;q=1 | gzip;q=0.5 | -",
    })
    void readsEveryLineOfTheFieldAsOneList(String first, String second, String expected) {
        assertThat(AcceptEncoding.negotiate(List.of(first, second), DEFAULT))
                .isEqualTo(expected.equals("-") ? null : expected);
    }

    @ParameterizedTest(name = "[{index}] q={0} -> {1}")
    @CsvSource({"0,0", "0.,0", "0.5,500", "0.05,50", "0.123,123", "1,1000", "1.0,1000", "1.000,1000",
        "1.01,-1", "2,-1", "0.1234,-1", ".5,-1", "01,-1", "'',-1", "0.a,-1"})
    void readsQValuesByTheGrammar(String q, int thousandths) {
        assertThat(AcceptEncoding.qvalue(q)).isEqualTo(thousandths);
    }

    @ParameterizedTest(name = "[{index}] no field -> identity")
    @CsvSource({"zstd", "gzip"})
    void aRequestWithoutTheFieldGetsIdentity(String offered) {
        assertThat(AcceptEncoding.negotiate(List.of(), List.of(offered))).isNull();
    }
}
