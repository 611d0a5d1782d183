package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestTargetTest {

    private static Kind failureKind(HttpMethod method, String uri) {
        ProxyFailure failure = catchThrowableOfType(ProxyFailure.class, () -> RequestTarget.parse(method, uri));
        assertThat(failure).as("ProxyFailure for %s %s", method, uri).isNotNull();
        return failure.kind();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/               | /             | ''",
            "/api            | /api          | ''",
            "/api/           | /api/         | ''",
            "/api?q          | /api          | ?q",
            "/api/x?y=1&z=2  | /api/x        | ?y=1&z=2",
            "/?              | /             | ?",
            "/a?b?c          | /a            | ?b?c",
            "/a%2Fb?q=%20    | /a%2Fb        | ?q=%20",
            "//double        | //double      | ''",
            "/http://x/      | /http://x/    | ''"})
    void splitsOriginFormIntoPathAndQuery(String uri, String path, String query) {
        RequestTarget target = RequestTarget.parse(HttpMethod.GET, uri);

        assertThat(target).isEqualTo(new RequestTarget(null, path, query));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://b.example/x?y           | b.example       | /x     | ?y",
            "http://b.example               | b.example       | /      | ''",
            "http://b.example?q             | b.example       | /      | ?q",
            "http://b.example/              | b.example       | /      | ''",
            "http://b.example:8080/a/b      | b.example:8080  | /a/b   | ''",
            "HTTP://B.Example/x             | B.Example       | /x     | ''",
            "http://[::1]:8080/x?%20        | [::1]:8080      | /x     | ?%20",
            "http://127.0.0.1/a%2Fb?q=%20   | 127.0.0.1       | /a%2Fb | ?q=%20"})
    void splitsAbsoluteFormIntoAuthorityPathAndQuery(String uri, String authority, String path, String query) {
        RequestTarget target = RequestTarget.parse(HttpMethod.GET, uri);

        assertThat(target).isEqualTo(new RequestTarget(authority, path, query));
    }

    @Test
    void acceptsAsteriskFormForOptionsAndRoutesItAsRoot() {
        RequestTarget target = RequestTarget.parse(HttpMethod.OPTIONS, "*");

        assertThat(target).isEqualTo(new RequestTarget(null, "*", ""));
        assertThat(target.routingPath()).isEqualTo("/");
    }

    @Test
    void routesOtherTargetsByTheirPath() {
        RequestTarget target = RequestTarget.parse(HttpMethod.OPTIONS, "/api/x?y");

        assertThat(target.routingPath()).isEqualTo("/api/x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD", "POST", "PUT", "DELETE"})
    void rejectsAsteriskFormForOtherMethodsAsBadRequest(String method) {
        Kind kind = failureKind(HttpMethod.valueOf(method), "*");

        assertThat(kind).isEqualTo(Kind.BAD_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"b.example:443", "/", "*", "http://b.example/"})
    void rejectsConnectAsNotImplemented(String uri) {
        Kind kind = failureKind(HttpMethod.CONNECT, uri);

        assertThat(kind).isEqualTo(Kind.NOT_IMPLEMENTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "api",
            "api/x",
            "?q",
            "b.example/x",
            "ftp://b.example/x",
            "file:///etc/passwd",
            "mailto:a@b.example",
            "http://",
            "http:///x",
            "http://?q",
            "http://user@b.example/x",
            "http://user:pass@b.example/",
            "http://@b.example/",
            "/a b",
            "/a\tb",
            "/a\r\nb",
            "/a\u0000b",
            "/a\u007fb",
            "/caf\u00e9",
            "/a#frag",
            "/a?q#frag",
            "http://b.example/#x",
            "**"})
    void rejectsInvalidTargetsAsBadRequest(String uri) {
        Kind kind = failureKind(HttpMethod.GET, uri);

        assertThat(kind).isEqualTo(Kind.BAD_REQUEST);
    }

    @Test
    void rejectsAnInvalidAsteriskLikeTargetForOptionsAsBadRequest() {
        Kind kind = failureKind(HttpMethod.OPTIONS, "*?x");

        assertThat(kind).isEqualTo(Kind.BAD_REQUEST);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
        "/a/../b, true", "/a/./b, true", "/.., true", "/a/., true", "/a/%2e%2E/b, true", "/%2e, true",
        "/a/.../b, false", "/a/.b/c, false", "/a//b, false", "/a/b., false", "/, false", "/%2f, false"})
    void findsDotSegmentsAlsoWhenPercentEncoded(String path, boolean expected) {
        org.assertj.core.api.Assertions.assertThat(RequestTarget.hasDotSegment(path)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/%", "/%4", "/a%4", "/%g1", "/%1g", "/a%zz/b", "/%%41", "/a\"b", "/a<b", "/a>b", "/a\\b",
        "/a%2?x", "http://b.example/%4"})
    void rejectsCharactersAndPercentEncodingsThatCouldMisleadAParser(String uri) {
        Kind kind = failureKind(HttpMethod.GET, uri);

        assertThat(kind).isEqualTo(Kind.BAD_REQUEST);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/%41%7a%7A%0f  | /%41%7a%7A%0f | ''",
            "/a?%zz         | /a            | ?%zz",
            "/a?b%          | /a            | ?b%",
            "/?%4           | /             | ?%4",
            "/a%20b?c%g     | /a%20b        | ?c%g"})
    void checksPercentEncodingInThePathOnlyAndForwardsTheQueryAsSent(String uri, String path, String query) {
        RequestTarget target = RequestTarget.parse(HttpMethod.GET, uri);

        assertThat(target).isEqualTo(new RequestTarget(null, path, query));
    }

    @ParameterizedTest
    @CsvSource({"/%, false", "/%2, false", "/a/%2, false", "/%2ex, false", "/x%2e, false", "/%2e%2ex/y, false",
        "/a/%2e/b, true", "/%2E%2e, true", "/%2f%2e, false", "/%3e, false", "/%2d, false"})
    void aPercentSignNearTheEndOrNotADotIsNoDotSegment(String path, boolean expected) {
        assertThat(RequestTarget.hasDotSegment(path)).isEqualTo(expected);
    }
}
