package dev.portico.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HeaderNamesTest {

    private static AsciiString lookup(String line, String name) {
        byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
        return HeaderNames.lookup(bytes, line.indexOf(name), name.length());
    }

    @Test
    void aCommonNameInItsUsualSpellingsIsOneSharedInstance() {
        AsciiString first = lookup("Content-Type: text/plain", "Content-Type");
        AsciiString second = lookup("xx Content-Type: a", "Content-Type");
        assertThat((Object) first).isNotNull().isSameAs(second);
        assertThat(first.toString()).isEqualTo("Content-Type");
        assertThat(lookup("content-type: a", "content-type").toString()).isEqualTo("content-type");
        assertThat(lookup("X-Request-Id: 1", "X-Request-Id").toString()).isEqualTo("X-Request-Id");
    }

    @Test
    void namesSharingASlotStillResolveToThemselves() {
        // Names of one length that begin and end alike, in both spellings: each must find its own instance.
        for (String name : new String[] {"Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User",
            "If-Match", "If-Range", "Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Content-Range",
            "Content-Length", "Content-Encoding", "Content-Language", "X-Forwarded-For", "X-Forwarded-Host",
            "X-Forwarded-Port", "X-Forwarded-Proto", "Date", "ETag", "Host", "Vary", "Via", "Age", "TE"}) {
            for (String spelling : new String[] {name, name.toLowerCase(java.util.Locale.ROOT)}) {
                assertThat((Object) lookup(spelling + ": x", spelling)).as(spelling).hasToString(spelling);
            }
        }
    }

    @Test
    void anyOtherSpellingOrNameIsNotReplaced() {
        assertThat((Object) lookup("CONTENT-TYPE: a", "CONTENT-TYPE")).isNull();
        assertThat((Object) lookup("Content-Typo: a", "Content-Typo")).isNull();
        assertThat((Object) lookup("X-Custom-Header: a", "X-Custom-Header")).isNull();
        assertThat((Object) lookup("A-Name-Longer-Than-Any-In-The-Table-Of-Common-Ones: a",
                "A-Name-Longer-Than-Any-In-The-Table-Of-Common-Ones")).isNull();
        assertThat((Object) lookup(": a", "")).isNull();
    }

    @Test
    void onlyTheNamesBytesAreCompared() {
        assertThat((Object) lookup("Hostile: a", "Host")).isNotNull().hasToString("Host");
        assertThat((Object) lookup("Date", "Date")).hasToString("Date");
    }

    @Test
    void aCommonNameInAnySpellingLowerCasesToOneSharedInstance() {
        AsciiString lower = lookup("content-type", "content-type");
        for (CharSequence name : new CharSequence[] {lookup("Content-Type", "Content-Type"), "Content-Type",
            "CONTENT-TYPE", "content-type", new AsciiString("cOnTeNt-TyPe")}) {
            assertThat((Object) HeaderNames.lowerCase(name)).as("%s", name).isSameAs(lower);
        }
        assertThat((Object) HeaderNames.lowerCase("Sec-Fetch-Mode")).hasToString("sec-fetch-mode")
                .isSameAs(HeaderNames.lowerCase("sec-fetch-MODE"));
        assertThat((Object) HeaderNames.lowerCase("WWW-Authenticate")).hasToString("www-authenticate");
    }

    @Test
    void anyOtherNameIsLowerCasedIntoANewInstance() {
        assertThat((Object) HeaderNames.lowerCase("X-Custom-Thing")).hasToString("x-custom-thing");
        assertThat((Object) HeaderNames.lowerCase("Content-Typo")).hasToString("content-typo");
        assertThat((Object) HeaderNames.lowerCase(new AsciiString("Hostile"))).hasToString("hostile");
        // Not a field name HTTP allows, but no match either: lower-cased as Netty's conversion would.
        String odd = "X-\u00c9t\u00e9";
        assertThat((Object) HeaderNames.lowerCase(odd)).isEqualTo(AsciiString.of(odd).toLowerCase());
        assertThat((Object) HeaderNames.lowerCase("")).hasToString("");
    }
}
