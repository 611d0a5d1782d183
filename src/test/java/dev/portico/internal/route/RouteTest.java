package dev.portico.internal.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.internal.balance.UpstreamGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteTest {
    private static final UpstreamGroup ENDPOINT =
            new UpstreamGroup(RouteConfig.of("/", "http://127.0.0.1:1").upstream(), "test");

    private static Route route(String prefix, boolean stripPrefix, String upstream) {
        return new Route(new RouteConfig(prefix, "", UpstreamUrl.parse(upstream), stripPrefix, RouteConfig.INHERIT),
                ENDPOINT, 0);
    }

    @ParameterizedTest(name = "{0} strip={1} -> {2}: {3}{4} becomes {5}")
    @CsvSource(delimiter = '|', value = {
            // strip_prefix: the rest after the prefix, always starting with '/'
            "/static | true  | http://h:1/assets  | /static/a.css   | ?v=2    | /assets/a.css?v=2",
            "/static | true  | http://h:1/assets  | /static         | ''      | /assets/",
            "/static | true  | http://h:1/assets  | /static         | ?x      | /assets/?x",
            "/static | true  | http://h:1/assets  | /static/        | ''      | /assets/",
            "/static | true  | http://h:1/assets  | /static/a/b/c   | ''      | /assets/a/b/c",
            "/static | true  | http://h:1/assets/ | /static/a.css   | ''      | /assets/a.css",
            "/static | true  | http://h:1         | /static/a.css   | ?v=2    | /a.css?v=2",
            "/static | true  | http://h:1         | /static         | ''      | /",
            "/static | true  | http://h:1         | /static         | ?x      | /?x",
            "/a/b    | true  | http://h:1/c       | /a/b/d          | ''      | /c/d",
            // no strip_prefix: the whole request path
            "/static | false | http://h:1/assets  | /static/a.css   | ?v=2    | /assets/static/a.css?v=2",
            "/static | false | http://h:1/assets  | /static         | ''      | /assets/static",
            "/static | false | http://h:1         | /static/a.css   | ?v=2    | /static/a.css?v=2",
            "/api    | false | http://h:1/v1/     | /api/users      | ''      | /v1/api/users",
            // the root route
            "/       | false | http://h:1         | /               | ''      | /",
            "/       | false | http://h:1         | /x/y            | ?z      | /x/y?z",
            "/       | true  | http://h:1         | /x/y            | ?z      | /x/y?z",
            "/       | true  | http://h:1/base    | /x              | ?a      | /base/x?a",
            "/       | false | http://h:1/base    | /               | ''      | /base/"})
    void upstreamTargetIsUpstreamPathThenRequestPathThenQuery(String prefix, boolean strip, String upstream,
                                                              String path, String query, String expected) {
        Route route = route(prefix, strip, upstream);

        String target = route.upstreamTarget(path, query);

        assertThat(target).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "false | /api/a%2Fb?q=%20",
            "true  | /a%2Fb?q=%20"})
    void percentEncodingIsForwardedUntouched(boolean strip, String expected) {
        Route route = route("/api", strip, "http://h:1");

        String target = route.upstreamTarget("/api/a%2Fb", "?q=%20");

        assertThat(target).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "?",
            "?a=1&a=2&&b",
            "?x=%zz%2",
            "?q=a+b%20c;d=/e?f",
            "?%E2%9C%93=%C3%A9"})
    void queryIsForwardedByteForByte(String query) {
        Route route = route("/static", true, "http://h:1/assets");

        String target = route.upstreamTarget("/static/a", query);

        assertThat(target).isEqualTo("/assets/a" + query);
    }

    @Test
    void exposesConfigEndpointAndBodyLimit() {
        RouteConfig config = RouteConfig.of("/api", "http://h:1");
        UpstreamGroup upstream = new UpstreamGroup(config.upstream(), "api");

        Route route = new Route(config, upstream, 4096);

        assertThat(route.config()).isSameAs(config);
        assertThat(route.upstream()).isSameAs(upstream);
        assertThat(route.maxRequestBody()).isEqualTo(4096);
    }

    @Test
    void requiresConfigAndEndpoint() {
        RouteConfig config = RouteConfig.of("/api", "http://h:1");

        assertThatNullPointerException().isThrownBy(() -> new Route(null, ENDPOINT, 0)).withMessage("config");
        assertThatNullPointerException().isThrownBy(() -> new Route(config, null, 0)).withMessage("upstream");
    }

    @Test
    void describesItselfAsHostPathAndUpstream() {
        Route withHost = new Route(new RouteConfig("/static", "www.example.com", UpstreamUrl.parse("http://h:1/assets"),
                true, RouteConfig.INHERIT), ENDPOINT, 0);
        Route anyHost = route("/api", false, "http://h:2");

        assertThat(withHost).hasToString("www.example.com/static -> http://h:1/assets");
        assertThat(anyHost).hasToString("/api -> http://h:2");
    }
}
