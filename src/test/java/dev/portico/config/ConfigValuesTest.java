package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValuesTest {

    @ParameterizedTest
    @CsvSource({"250ms, 250", "2s, 2000", "1m, 60000", "1h, 3600000", "0ms, 0", "' 5s ', 5000"})
    void parsesDurationsWithAUnit(String text, long millis) {
        assertThat(ConfigValues.parseDuration(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5", "1.5s", "-1s", "5 s", "5d", "s", "PT5S"})
    void rejectsDurationsWithoutAKnownUnit(String text) {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.parseDuration(text))
                .withMessage("not a duration (use e.g. 250ms, 2s, 1m, 1h): \"" + text + "\"");
    }

    @Test
    void rejectsADurationTooLongToCount() {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.parseDuration("99999999999999999999ms"))
                .withMessage("duration out of range: \"99999999999999999999ms\"");
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "8192, 8192", "5B, 5", "64KiB, 65536", "10MiB, 10485760", "1GiB, 1073741824",
            "1KB, 1024", "2MB, 2097152", "3GB, 3221225472", "9223372036854775807, 9223372036854775807"})
    void parsesSizes(String text, long bytes) {
        assertThat(ConfigValues.parseSize(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5MiB", "10TiB", "KiB", "64 KiB", "1e6"})
    void rejectsTextThatIsNotASize(String text) {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.parseSize(text))
                .withMessage("not a size (use e.g. 8192, 64KiB, 10MiB, 1GiB): \"" + text + "\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"8589934592GiB", "9007199254740992KiB", "9223372036854775808", "99999999999999999999"})
    void rejectsSizesThatOverflowALong(String text) {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.parseSize(text))
                .withMessage("size out of range: \"" + text + "\"");
    }

    @ParameterizedTest
    @CsvSource({"/api/, /api", "/api//, /api", "/, /", "//, /", "/a/b, /a/b", "/api, /api"})
    void normalizesRoutePathsWithoutTheTrailingSlash(String path, String normalized) {
        assertThat(ConfigValues.routePath(path)).isEqualTo(normalized);
    }

    @ParameterizedTest
    @ValueSource(strings = {"api", "/a b", "/a?q=1", "/a#top", "/caf\u00e9", "/a\tb"})
    void rejectsRoutePathsThatCannotPrefixATarget(String path) {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.routePath(path));
    }

    @ParameterizedTest
    @NullAndEmptySource
    void reportsAMissingRoutePath(String path) {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.routePath(path))
                .withMessage("path is missing");
    }

    @ParameterizedTest
    @CsvSource({"WWW.Example.COM, www.example.com", "*.Example.com, *.example.com", "localhost, localhost",
            "10.0.0.1, 10.0.0.1", "a-b.example, a-b.example"})
    void lowerCasesRouteHosts(String host, String normalized) {
        assertThat(ConfigValues.routeHost(host)).isEqualTo(normalized);
    }

    @ParameterizedTest
    @NullAndEmptySource
    void treatsAMissingRouteHostAsAnyHost(String host) {
        assertThat(ConfigValues.routeHost(host)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", "*.", "a.*.com", "*example.com", "-a.com", "a-.com", "a_b.com", "a..com",
            "ex ample.com", "example.com:80", "example.com."})
    void rejectsRouteHostsThatAreNotNamesOrWildcards(String host) {
        assertThatIllegalArgumentException().isThrownBy(() -> ConfigValues.routeHost(host))
                .withMessage("not a host name or *.wildcard: \"" + host + "\"");
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1:8080, 127.0.0.1, 8080", "localhost:0, localhost, 0", "[::1]:8080, ::1, 8080",
            "0.0.0.0:65535, 0.0.0.0, 65535"})
    void parsesListenAddresses(String text, String host, int port) {
        assertThat(ListenAddress.parse(text)).isEqualTo(new ListenAddress(host, port));
    }

    @Test
    void printsAnIpv6ListenAddressInBrackets() {
        assertThat(ListenAddress.parse("[::1]:8080")).hasToString("[::1]:8080");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            8080             | not host:port: "8080"
            localhost:       | not host:port: "localhost:"
            :8080            | not host:port: ":8080"
            localhost:http   | not a port number in "localhost:http"
            localhost:65536  | port must be between 0 and 65535, got 65536
            ' '              | address is missing (use host:port)
            """)
    void rejectsBadListenAddresses(String text, String message) {
        assertThatIllegalArgumentException().isThrownBy(() -> ListenAddress.parse(text)).withMessage(message);
    }

    @ParameterizedTest
    @CsvSource({"http://127.0.0.1:8000, 127.0.0.1, 8000, ''", "http://backend, backend, 80, ''",
            "http://h:8001/assets/, h, 8001, /assets", "HTTP://[::1]:9000/a/b, ::1, 9000, /a/b"})
    void parsesUpstreamUrls(String text, String host, int port, String path) {
        assertThat(UpstreamUrl.parse(text)).isEqualTo(new UpstreamUrl(host, port, path));
    }

    @Test
    void givesTheUpstreamAuthorityWithIpv6InBrackets() {
        assertThat(UpstreamUrl.parse("http://[::1]:9000/x").authority()).isEqualTo("[::1]:9000");
        assertThat(UpstreamUrl.parse("http://[::1]:9000/x")).hasToString("http://[::1]:9000/x");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            htp://x               | unsupported upstream scheme "htp" (only http and https): "htp://x"
            http://h/p?q=1        | upstream URL may not have a query, fragment or user info: "http://h/p?q=1"
            http://h/p#f          | upstream URL may not have a query, fragment or user info: "http://h/p#f"
            example.com           | not a URL: "example.com"
            http://               | not a URL: "http://"
            ' '                   | upstream URL is missing
            """)
    void rejectsBadUpstreamUrls(String text, String message) {
        assertThatIllegalArgumentException().isThrownBy(() -> UpstreamUrl.parse(text)).withMessage(message);
    }
}
