package dev.portico.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9111's storability, freshness and age rules as pure functions. */
class FreshnessTest {
    private static final long NOW = 1_800_000_000_000L;

    private static HttpHeaders h(String... pairs) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < pairs.length; i += 2) {
            h.add(pairs[i], pairs[i + 1]);
        }
        return h;
    }

    private static CacheControl cc(HttpHeaders h) {
        return CacheControl.parse(h.getAll("cache-control"));
    }

    private static boolean storable(int status, HttpHeaders request, HttpHeaders response) {
        return Freshness.storable(status, request, cc(request), response, cc(response));
    }

    private static String date(long millis) {
        return DateFormatter.format(new Date(millis));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "200 | max-age=60        | true",
        "200 | ''                | true",   // heuristically cacheable status: stored, freshness decided later
        "302 | ''                | false",  // neither explicit freshness nor a heuristically cacheable status
        "302 | max-age=60        | true",
        "500 | public            | true",
        "200 | no-store          | false",
        "200 | private           | false",
        "200 | max-age=60, private=\"x\" | false",
        "206 | max-age=60        | false",  // partial content is not stored
        "304 | max-age=60        | false",
    })
    void storabilityFollowsStatusAndResponseDirectives(int status, String cacheControl, boolean expected) {
        HttpHeaders response = cacheControl.isEmpty() ? h() : h("Cache-Control", cacheControl);
        assertThat(storable(status, h(), response)).isEqualTo(expected);
    }

    @Test
    void authorizedRequestsAreStoredOnlyWhenTheResponseSaysSo() {
        HttpHeaders auth = h("Authorization", "Bearer x");
        assertThat(storable(200, auth, h("Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(200, auth, h("Cache-Control", "max-age=60, public"))).isTrue();
        assertThat(storable(200, auth, h("Cache-Control", "s-maxage=60"))).isTrue();
        assertThat(storable(200, auth, h("Cache-Control", "max-age=60, must-revalidate"))).isTrue();
    }

    @Test
    void requestNoStoreAndVaryStarPreventStorage() {
        assertThat(storable(200, h("Cache-Control", "no-store"), h("Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(200, h(), h("Cache-Control", "max-age=60", "Vary", "Accept, *"))).isFalse();
    }

    @Test
    void surrogateControlOverridesCacheControlForThisCacheOnly() {
        assertThat(storable(200, h(), h("Cache-Control", "no-store", "Surrogate-Control", "max-age=60;portico")))
                .isTrue();
        assertThat(storable(200, h(), h("Cache-Control", "max-age=60", "Surrogate-Control", "no-store")))
                .isFalse();
        HttpHeaders other = h("Surrogate-Control", "max-age=60;someone-else");
        assertThat(Freshness.lifetime(200, other, cc(other), NOW, false)).isZero();
    }

    @Test
    void lifetimePrefersSMaxageThenMaxAgeThenExpires() {
        HttpHeaders all = h("Cache-Control", "max-age=20, s-maxage=30", "Date", date(NOW),
                "Expires", date(NOW + 40_000));
        assertThat(Freshness.lifetime(200, all, cc(all), NOW, true)).isEqualTo(30);
        HttpHeaders maxAge = h("Cache-Control", "max-age=20", "Date", date(NOW), "Expires", date(NOW + 40_000));
        assertThat(Freshness.lifetime(200, maxAge, cc(maxAge), NOW, true)).isEqualTo(20);
        HttpHeaders expires = h("Date", date(NOW), "Expires", date(NOW + 40_000));
        assertThat(Freshness.lifetime(200, expires, cc(expires), NOW, true)).isEqualTo(40);
    }

    @Test
    void invalidExpiresAndInvalidMaxAgeMeanStale() {
        HttpHeaders badExpires = h("Date", date(NOW), "Expires", "0");
        assertThat(Freshness.lifetime(200, badExpires, cc(badExpires), NOW, true)).isZero();
        HttpHeaders badMaxAge = h("Cache-Control", "max-age=1.5");
        assertThat(Freshness.lifetime(200, badMaxAge, cc(badMaxAge), NOW, true)).isZero();
    }

    @Test
    void heuristicIsTenPercentOfTheLastModifiedAgeCappedAtOneDayAndCanBeTurnedOff() {
        HttpHeaders tenHours = h("Date", date(NOW), "Last-Modified", date(NOW - 36_000_000));
        assertThat(Freshness.lifetime(200, tenHours, cc(tenHours), NOW, true)).isEqualTo(3600);
        assertThat(Freshness.lifetime(200, tenHours, cc(tenHours), NOW, false)).isZero();
        assertThat(Freshness.lifetime(302, tenHours, cc(tenHours), NOW, true)).isZero();
        HttpHeaders old = h("Date", date(NOW), "Last-Modified", date(NOW - 100L * 86_400_000));
        assertThat(Freshness.lifetime(200, old, cc(old), NOW, true)).isEqualTo(Freshness.HEURISTIC_CAP_SECONDS);
    }

    @Test
    void ageCountsTheAgeFieldTheApparentAgeTheDelayAndTheTimeResident() {
        HttpHeaders r = h("Date", date(NOW - 10_000), "Age", "5");
        long initial = Freshness.initialAge(r, NOW - 2_000, NOW);
        assertThat(initial).isEqualTo(10); // max(apparent 10, age 5 + delay 2)
        assertThat(Freshness.currentAge(initial, NOW, NOW + 30_000)).isEqualTo(40);
    }

    @ParameterizedTest
    @CsvSource({"'7200', 7200", "'0', 0", "'abc', 2147483648", "'-1', 2147483648", "'1.0', 2147483648",
        "'7200;x=1', 2147483648"})
    void anAgeThatIsNotOneIntegerIsTakenAsTheLargest(String age, long expected) {
        assertThat(Freshness.ageValue(h("Age", age))).isEqualTo(expected);
    }

    @Test
    void cacheControlParsesQuotedValuesCaseAndTheFirstOccurrence() {
        CacheControl c = CacheControl.parse(List.of("Max-Age=10, no-cache=\"Set-Cookie, X\"", "max-age=99"));
        assertThat(c.seconds("max-age")).isEqualTo(10);
        assertThat(c.value("no-cache")).isEqualTo("Set-Cookie, X");
        assertThat(c.has("no-store")).isFalse();
    }

    @Test
    void varyMatchesNormalizedValuesAndAbsence() {
        HttpHeaders response = h("Vary", "Accept-Encoding, X-Absent");
        var captured = Vary.capture(response, h("Accept-Encoding", "gzip,  br"));
        assertThat(captured).containsEntry("accept-encoding", "gzip,br").containsEntry("x-absent", null);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bytes=0-4    | 0 | 4",
        "bytes=5-     | 5 | 9",
        "bytes=-3     | 7 | 9",
        "bytes=8-100  | 8 | 9",
    })
    void singleRangesAreResolvedAgainstTheLength(String range, long first, long last) {
        assertThat(Ranges.single(range, 10)).containsExactly(first, last);
    }

    @Test
    void unsatisfiableAndUnsupportedRanges() {
        assertThat(Ranges.single("bytes=10-", 10)).isEmpty();
        assertThat(Ranges.single("bytes=0-1,3-4", 10)).isNull();
        assertThat(Ranges.single("items=0-1", 10)).isNull();
    }
}
