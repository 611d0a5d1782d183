package dev.portico.internal.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.internal.balance.UpstreamGroup;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RouterTest {

    private static Route route(String host, String path) {
        RouteConfig config = new RouteConfig(path, host, UpstreamUrl.parse("http://127.0.0.1:8000"), false,
                RouteConfig.INHERIT);
        return new Route(config, new UpstreamGroup(config.upstream(), path), 0);
    }

    private static Router router(Route... routes) {
        return new Router(List.of(routes));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api", "/api/", "/api/x", "/api/x/y", "/api//x", "/api/x%2Fy"})
    void prefixMatchesThePathItselfAndEverythingBelowIt(String path) {
        Route api = route("", "/api");
        Router router = router(api);

        Route found = router.find("example.com", path);

        assertThat(found).isSameAs(api);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/apix", "/apix/y", "/ap", "/", "/other", "/API", "/v1/api", "/api%2Fx"})
    void prefixNeverMatchesAcrossASegmentBoundary(String path) {
        Router router = router(route("", "/api"));

        Route found = router.find("example.com", path);

        assertThat(found).isNull();
    }

    @ParameterizedTest
    @CsvSource({
            "/api/v1/users, /api/v1",
            "/api/v1, /api/v1",
            "/api/v2, /api",
            "/api/v1x, /api",
            "/api, /api",
            "/apix, /",
            "/x/y, /",
            "/, /"})
    void longestMatchingPrefixWins(String path, String expectedPrefix) {
        Router router = router(route("", "/"), route("", "/api/v1"), route("", "/api"));

        Route found = router.find("example.com", path);

        assertThat(found.config().path()).isEqualTo(expectedPrefix);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/a", "/a/b/c", "/%2F", "/index.html"})
    void rootRouteMatchesEveryPath(String path) {
        Route root = route("", "/");
        Router router = router(root);

        Route found = router.find("example.com", path);

        assertThat(found).isSameAs(root);
    }

    @Test
    void returnsNullWhenNothingMatches() {
        Router router = router(route("", "/api"), route("a.example", "/"));

        Route found = router.find("b.example", "/web");

        assertThat(found).isNull();
    }

    @Test
    void emptyTableMatchesNothing() {
        Router router = new Router(List.of());

        assertThat(router.find("example.com", "/")).isNull();
    }

    @Test
    void routesForTheRequestHostComeBeforeLongerHostlessRoutes() {
        Route hostRoot = route("a.example", "/");
        Route hostlessApi = route("", "/api/v1");
        Router router = router(hostlessApi, hostRoot);

        Route found = router.find("a.example", "/api/v1/x");

        assertThat(found).isSameAs(hostRoot);
    }

    @Test
    void longestPrefixWinsAmongTheHostsRoutes() {
        Route hostRoot = route("a.example", "/");
        Route hostApi = route("a.example", "/api");
        Router router = router(hostRoot, hostApi, route("", "/api/v1"));

        Route found = router.find("a.example", "/api/v1/x");

        assertThat(found).isSameAs(hostApi);
    }

    @Test
    void hostRouteWhosePathDoesNotMatchFallsBackToHostlessRoutes() {
        Route admin = route("a.example", "/admin");
        Route fallback = route("", "/");
        Router router = router(admin, fallback);

        Route found = router.find("a.example", "/public/index.html");

        assertThat(found).isSameAs(fallback);
    }

    @Test
    void hostRoutesAreIgnoredForOtherHosts() {
        Route admin = route("a.example", "/admin");
        Route fallback = route("", "/");
        Router router = router(admin, fallback);

        assertThat(router.find("b.example", "/admin")).isSameAs(fallback);
        assertThat(router.find("a.example.org", "/admin")).isSameAs(fallback);
        assertThat(router.find("xa.example", "/admin")).isSameAs(fallback);
    }

    @Test
    void requestWithoutHostOnlyMatchesHostlessRoutes() {
        Route hostRoute = route("a.example", "/api");
        Route fallback = route("", "/");
        Router router = router(hostRoute, fallback);

        Route found = router.find(null, "/api");

        assertThat(found).isSameAs(fallback);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a.example", "A.Example", "A.EXAMPLE", "a.example:8080", "A.EXAMPLE:80", "a.example:"})
    void hostMatchingIgnoresCaseAndPort(String host) {
        Route hostRoute = route("a.example", "/");
        Router router = router(hostRoute, route("", "/"));

        Route found = router.find(host, "/x");

        assertThat(found).isSameAs(hostRoute);
    }

    @Test
    void routeHostWrittenInUpperCaseMatchesAnyCase() {
        Route hostRoute = route("WWW.Example.COM", "/");
        Router router = router(hostRoute);

        assertThat(router.find("www.example.com", "/")).isSameAs(hostRoute);
        assertThat(router.find("Www.Example.Com:443", "/")).isSameAs(hostRoute);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a.example.com", "www.example.com", "a.b.example.com", "A.Example.COM:8443",
            "x-y.example.com:1"})
    void wildcardMatchesAnyNameEndingInItsSuffix(String host) {
        Route wildcard = route("*.example.com", "/");
        Router router = router(wildcard, route("", "/"));

        Route found = router.find(host, "/x");

        assertThat(found).isSameAs(wildcard);
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "EXAMPLE.COM:80", "aexample.com", "example.com.evil", "a.example.org",
            "com", "[::1]:8080", ".example.com", ".a.example.com"})
    void wildcardDoesNotMatchItsBareSuffixOrOtherNames(String host) {
        Route fallback = route("", "/");
        Router router = router(route("*.example.com", "/"), fallback);

        Route found = router.find(host, "/x");

        assertThat(found).isSameAs(fallback);
    }

    @Test
    void exactHostBeatsWildcardOnEqualPrefixLength() {
        Route exact = route("a.example.com", "/api");
        Route wildcard = route("*.example.com", "/api");
        Router router = router(wildcard, exact);

        Route found = router.find("a.example.com", "/api/x");

        assertThat(found).isSameAs(exact);
    }

    @Test
    void longerWildcardPrefixBeatsShorterExactHostPrefix() {
        Route exact = route("a.example.com", "/");
        Route wildcard = route("*.example.com", "/api");
        Router router = router(exact, wildcard);

        assertThat(router.find("a.example.com", "/api/x")).isSameAs(wildcard);
        assertThat(router.find("a.example.com", "/web")).isSameAs(exact);
    }

    @Test
    void moreSpecificWildcardBeatsBroaderWildcardOnEqualPrefixLength() {
        Route broad = route("*.example.com", "/");
        Route specific = route("*.b.example.com", "/");
        Router router = router(broad, specific);

        assertThat(router.find("a.b.example.com", "/")).isSameAs(specific);
        assertThat(router.find("a.c.example.com", "/")).isSameAs(broad);
    }

    @Test
    void wildcardRouteWhosePathDoesNotMatchFallsBackToHostlessRoutes() {
        Route fallback = route("", "/");
        Router router = router(route("*.example.com", "/admin"), fallback);

        Route found = router.find("a.example.com", "/public");

        assertThat(found).isSameAs(fallback);
    }

    @ParameterizedTest
    @ValueSource(strings = {"[::1]:8080", "[::1]", "[2001:db8::1]:443", "127.0.0.1:8080", "127.0.0.1"})
    void ipLiteralHostsAreRoutedToHostlessRoutes(String host) {
        Route api = route("", "/api");
        Router router = router(route("a.example", "/api"), api);

        Route found = router.find(host, "/api/x");

        assertThat(found).isSameAs(api);
    }

    @ParameterizedTest
    @CsvSource({
            "Example.COM:8080, example.com",
            "example.com, example.com",
            "[::1]:8080, [::1]",
            "[::1], [::1]",
            "[2001:DB8::1]:80, [2001:db8::1]",
            "127.0.0.1:80, 127.0.0.1"})
    void hostNameDropsThePortAndLowerCases(String host, String expected) {
        assertThat(Router.hostName(host)).isEqualTo(expected);
    }

    @Test
    void findsTheRightRouteAmongTenThousand() {
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            routes.add(route("", "/svc" + i));
            routes.add(route("h" + i + ".example", "/api/v" + (i % 7)));
        }
        Router router = new Router(routes);

        assertThat(routes).hasSize(10_000);
        for (int i = 0; i < 5_000; i++) {
            assertThat(router.find("h" + i + ".example:8080", "/api/v" + (i % 7) + "/items")).as("host h%d", i)
                    .isSameAs(routes.get(2 * i + 1));
            assertThat(router.find("other.example", "/svc" + i + "/x")).as("path /svc%d", i)
                    .isSameAs(routes.get(2 * i));
        }
        assertThat(router.find("other.example", "/svc5000")).isNull();
        assertThat(router.find("other.example", "/svc12x")).isNull();
        assertThat(router.find("h1.example", "/svc12/a")).isSameAs(routes.get(24));
    }

    @ParameterizedTest
    @CsvSource({"a.example., a.example", "A.Example.:8080, a.example", "a.example.com., a.example.com", "., ''",
        "[::1]:80, [::1]", "[::1], [::1]"})
    void theHostNameLosesItsPortCaseAndTrailingDot(String host, String name) {
        assertThat(Router.hostName(host)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a.example.", "A.EXAMPLE.:8080"})
    void aFullyQualifiedHostWithItsTrailingDotMatchesItsRoute(String host) {
        Route hostRoute = route("a.example", "/");
        Router router = router(hostRoute, route("", "/"));

        assertThat(router.find(host, "/x")).isSameAs(hostRoute);
    }
}
