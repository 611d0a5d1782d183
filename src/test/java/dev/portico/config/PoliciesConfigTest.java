package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PoliciesConfigTest {
    private static final String HEAD = """
            listen: 127.0.0.1:8080
            """;

    private static ProxyConfig parse(String yaml) {
        return ProxyConfig.parse(HEAD + yaml, "p.yaml");
    }

    private static List<String> problems(String yaml) {
        return catchThrowableOfType(() -> parse(yaml), ConfigException.class).problems();
    }

    @Test
    void namedAndInlinePoliciesAttachToRoutesInOrderAfterTheDefaults() {
        ProxyConfig c = parse("""
                policies:
                  secure:
                    security_headers: {preset: strict}
                  office:
                    ip_filter: {allow: [10.0.0.0/8, 192.168.0.0/16]}
                default_policies: [secure]
                trusted_proxies: [10.1.0.0/16, 127.0.0.1]
                routes:
                  - path: /api
                    upstream: http://127.0.0.1:8000
                    policies:
                      - office
                      - headers:
                          request:  {set: {X-Env: prod}, add: {X-Tag: a}, remove: [X-Debug]}
                          response: {set: {Cache-Control: no-store}, remove: [Server, X-Powered-By]}
                  - path: /old
                    upstream: http://127.0.0.1:8000
                    skip_default_policies: true
                    policies: [{redirect: {to: "https://new.example${path}${query}", status: 301}}]
                """);
        assertThat(c.policies().defaults()).singleElement().isInstanceOf(SecurityHeadersPolicyConfig.class);
        assertThat(c.policies().trustedProxies()).extracting(Cidr::toString)
                .containsExactly("10.1.0.0/16", "127.0.0.1/32");
        RouteConfig api = c.routes().get(0);
        assertThat(api.policies()).hasSize(2);
        assertThat(api.policies().get(0)).isEqualTo(IpFilterPolicyConfig.allow("10.0.0.0/8", "192.168.0.0/16"));
        HeadersPolicyConfig h = (HeadersPolicyConfig) api.policies().get(1);
        assertThat(h.request().set()).extracting(HeaderField::name).containsExactly("X-Env");
        assertThat(h.request().remove()).containsExactly("X-Debug");
        assertThat(h.response().remove()).containsExactly("Server", "X-Powered-By");
        RouteConfig old = c.routes().get(1);
        assertThat(old.skipDefaultPolicies()).isTrue();
        assertThat(old.policies()).containsExactly(RedirectPolicyConfig.of("https://new.example${path}${query}", 301));
        SecurityHeadersPolicyConfig s = (SecurityHeadersPolicyConfig) c.policies().defaults().get(0);
        assertThat(s.frameOptions()).isEqualTo("DENY");
        assertThat(s.hstsValue()).isEqualTo("max-age=31536000; includeSubDomains");
    }

    @Test
    void reportsEveryPolicyProblemWithItsKeyPath() {
        List<String> problems = problems("""
                policies:
                  a:
                    headers: {request: {set: {Content-Length: "5"}}}
                  b:
                    redirect: {to: "https://x${nope}", status: 200}
                  c:
                    cors: {allow_origins: ["*"], allow_credentials: true}
                  d:
                    bogus: {}
                  e:
                    headers: {request: {}}
                    respond: {}
                routes:
                  - path: /
                    upstream: http://127.0.0.1:8000
                    policies: [missing, {rewrite: {regex: "^/v1/(.*)$", replacement: "/api/$2"}}]
                """);
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.a.headers.request.set.Content-Length: ").contains("framing"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.b.redirect.to: unknown variable ${nope}"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.c.cors.allow_credentials: cannot go with allow_origins \"*\""));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.d.bogus: unknown policy type"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.e: one policy type per entry, got 2 keys"));
        assertThat(problems).contains("routes[0].policies[0]: no policy named \"missing\" (known: none)");
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("routes[0].policies[1].rewrite.replacement: names group $2 but the regex has 1 group"));
    }

    @Test
    void redirectStatusMustBeARedirect() {
        assertThat(problems("""
                routes:
                  - path: /
                    upstream: http://127.0.0.1:8000
                    policies: [{redirect: {to: /x, status: 200}}]
                """)).containsExactly("routes[0].policies[0].redirect.status: must be 301, 302, 303, 307 or 308, "
                + "got 200");
    }

    @Test
    void rewriteWithStripPrefixIsRefused() {
        assertThat(problems("""
                routes:
                  - path: /v1
                    upstream: http://127.0.0.1:8000
                    strip_prefix: true
                    policies: [{rewrite: {regex: "^/v1/(.*)$", replacement: "/api/$1"}}]
                """)).singleElement().asString().startsWith("routes[0].policies: cannot combine rewrite with strip_prefix");
    }

    @Test
    void customPolicyClassIsLoadedWithItsSettings() {
        ProxyConfig c = parse("""
                routes:
                  - path: /
                    upstream: http://127.0.0.1:8000
                    policies: [{class: dev.portico.config.PoliciesConfigTest$Tagger, settings: {tag: blue}}]
                """);
        CustomPolicyConfig p = (CustomPolicyConfig) c.routes().get(0).policies().get(0);
        assertThat(((Tagger) p.policy()).tag).isEqualTo("blue");
        assertThat(problems("""
                routes:
                  - path: /
                    upstream: http://127.0.0.1:8000
                    policies: [{class: com.example.Missing}]
                """)).containsExactly("routes[0].policies[0].class: class com.example.Missing not found on the "
                + "classpath (or in plugins/)");
    }

    /** A custom policy for the loader test. */
    public static final class Tagger implements dev.portico.policy.Policy {
        final String tag;

        /** @param settings with a tag */
        public Tagger(java.util.Map<String, Object> settings) {
            this.tag = String.valueOf(settings.get("tag"));
        }
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.0/8,10.255.1.2,true", "10.0.0.0/8,11.0.0.1,false", "192.168.1.7,192.168.1.7,true",
        "192.168.1.7,192.168.1.8,false", "2001:db8::/32,2001:db8:1::5,true", "2001:db8::/32,2001:db9::1,false",
        "10.0.0.0/8,::ffff:10.1.2.3,true", "0.0.0.0/0,1.2.3.4,true", "10.1.2.3/31,10.1.2.2,true",
        "10.1.2.3/31,10.1.2.4,false"})
    void cidrBlocksMatchTheirAddresses(String block, String address, boolean expected) throws Exception {
        assertThat(Cidr.parse(block).contains(InetAddress.getByName(address))).isEqualTo(expected);
    }

    @Test
    void cidrRefusesNamesAndBadPrefixes() {
        assertThatThrownBy(() -> Cidr.parse("localhost")).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("between 0 and 32");
        assertThatThrownBy(() -> Cidr.parse("10.0.0/8")).hasMessageContaining("not an IP address");
    }

    @Test
    void buildersMakeWhatYamlMakes() {
        ProxyConfig yaml = parse("""
                policies:
                  cors: {cors: {allow_origins: ["https://app.example"], max_age: 10m, allow_credentials: true}}
                default_policies: [cors]
                routes: {/: "http://127.0.0.1:8000"}
                """);
        ProxyConfig built = ProxyConfig.builder().listen("127.0.0.1:8080").route("/", "http://127.0.0.1:8000")
                .defaultPolicies(CorsPolicyConfig.builder("https://app.example").maxAge(Duration.ofMinutes(10))
                        .allowCredentials(true).build())
                .build();
        assertThat(built.policies()).isEqualTo(yaml.policies());
    }
}
