package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.LimitsConfig;
import dev.portico.config.RouteConfig;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import dev.portico.internal.route.Route;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The limits of {@link RequestValidator#check} at their boundaries, and {@link RequestValidator#admit}. */
class RequestAdmissionTest {
    private static final RouteConfig CONFIG = RouteConfig.of("/", "http://127.0.0.1:1");
    private static final UpstreamGroup UPSTREAM = new UpstreamGroup(CONFIG.upstream(), "test");

    private static HttpRequest request(String method, String... nameValues) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), "/");
        r.headers().add("Host", "a");
        for (int i = 0; i < nameValues.length; i += 2) {
            r.headers().add(nameValues[i], nameValues[i + 1]);
        }
        return r;
    }

    private static LimitsConfig limits(int maxHeaders, int maxMethodLength) {
        return new LimitsConfig(8192, 65536, 0, maxHeaders, 0, 0).withMaxMethodLength(maxMethodLength);
    }

    private static Route route(long maxRequestBody) {
        return new Route(CONFIG, UPSTREAM, maxRequestBody);
    }

    @ParameterizedTest
    @CsvSource({"OPTIONS, 7, ", "OPTIONS, 8, ", "ABCDEFGH, 7, NOT_IMPLEMENTED", "UPDATEREDIRECTREF, 17, ",
        "UPDATEREDIRECTREF, 16, NOT_IMPLEMENTED"})
    void aMethodUpToMaxMethodLengthPassesAndALongerOneIsNotImplemented(String method, int max, Kind expected) {
        ProxyFailure failure = RequestValidator.check(request(method), limits(100, max));

        assertThat(failure == null ? null : failure.kind()).isEqualTo(expected);
    }

    @Test
    void theMethodLimitIsNamedInTheFailure() {
        assertThat(RequestValidator.check(request("ABCDEFGH"), limits(100, 7)).getMessage())
                .contains("method longer than 7 bytes");
    }

    @ParameterizedTest
    @CsvSource({"1, 1, ", "2, 3, ", "3, 3, ", "4, 3, HEADERS_TOO_LARGE"})
    void upToMaxHeadersFieldsPassAndOneMoreIs431(int fields, int max, Kind expected) {
        HttpRequest request = request("GET");
        for (int i = 1; i < fields; i++) {
            request.headers().add("X-" + i, "v");
        }

        ProxyFailure failure = RequestValidator.check(request, limits(max, 32));

        assertThat(failure == null ? null : failure.kind()).isEqualTo(expected);
    }

    @Test
    void noRouteIs404() {
        assertThat(RequestValidator.admit(null, request("GET")).kind()).isEqualTo(Kind.NO_ROUTE);
    }

    @ParameterizedTest
    @CsvSource({"0, 1000000", "10, 9", "10, 10", "10, 0", "1, 1"})
    void aDeclaredBodyWithinTheRouteLimitIsAdmitted(long limit, long length) {
        HttpRequest request = request("POST", "Content-Length", Long.toString(length));

        assertThat(RequestValidator.admit(route(limit), request)).isNull();
    }

    @ParameterizedTest
    @CsvSource({"10, 11", "1, 2", "10, 1000000"})
    void aDeclaredBodyOverTheRouteLimitIs413(long limit, long length) {
        HttpRequest request = request("POST", "Content-Length", Long.toString(length));

        ProxyFailure failure = RequestValidator.admit(route(limit), request);

        assertThat(failure.kind()).isEqualTo(Kind.REQUEST_TOO_LARGE);
        assertThat(failure.getMessage()).contains("over " + limit + " bytes");
    }

    @Test
    void aRequestWithoutContentLengthIsAdmittedUnderALimit() {
        assertThat(RequestValidator.admit(route(1), request("POST", "Transfer-Encoding", "chunked"))).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"100-continue", "100-Continue", "100-CONTINUE"})
    void theOnlyExpectationAdmittedIs100Continue(String expect) {
        assertThat(RequestValidator.admit(route(0), request("POST", "Expect", expect))).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"200-ok", "100-continue, x", ""})
    void anyOtherExpectationIs417(String expect) {
        assertThat(RequestValidator.admit(route(0), request("POST", "Expect", expect)).kind())
                .isEqualTo(Kind.EXPECTATION_FAILED);
    }
}
