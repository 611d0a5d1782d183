package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portico.config.ForwardAuthPolicyConfig.OnFailure;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForwardAuthConfigTest {
    private static ProxyConfig parse(String policies) {
        return ProxyConfig.parse("listen: 127.0.0.1:8080\n" + policies
                + "routes: {/: \"http://127.0.0.1:8000\"}\n", "p.yaml");
    }

    private static List<String> problems(String policies) {
        return catchThrowableOfType(() -> parse(policies), ConfigException.class).problems();
    }

    @Test
    void theIssuesExampleParsesAndEqualsItsBuilder() {
        ProxyConfig c = parse("""
                policies:
                  sso:
                    forward_auth:
                      url: http://127.0.0.1:9091/verify?rd=https://login.example
                      copy_request_headers: [Cookie, Authorization]
                      copy_response_headers: [X-User, X-Groups]
                      timeout: 2s
                      on_failure: allow
                      cache: 30s
                default_policies: [sso]
                """);
        assertThat(c.policies().defaults()).containsExactly(ForwardAuthPolicyConfig
                .builder("http://127.0.0.1:9091/verify?rd=https://login.example")
                .copyRequestHeaders("Cookie", "Authorization").copyResponseHeaders("X-User", "X-Groups")
                .timeout(Duration.ofSeconds(2)).onFailure(OnFailure.ALLOW).cache(Duration.ofSeconds(30)).build());
    }

    @Test
    void theReadmesOauth2ProxyAndAutheliaExampleIsValid() {
        ProxyConfig c = ProxyConfig.parse("""
                listen: 127.0.0.1:8080
                policies:
                  oauth2:
                    forward_auth:
                      url: http://127.0.0.1:4180/
                      copy_request_headers: [Cookie]
                      copy_response_headers: [X-Auth-Request-User, X-Auth-Request-Email]
                      cache: 10s
                  authelia:
                    forward_auth:
                      url: http://127.0.0.1:9091/api/authz/forward-auth
                      copy_request_headers: [Cookie, Authorization, Proxy-Authorization, Accept]
                      copy_response_headers: [Remote-User, Remote-Groups, Remote-Email, Remote-Name]
                routes:
                  - path: /oauth2
                    upstream: http://127.0.0.1:4180
                  - path: /
                    upstream: http://127.0.0.1:8000
                    policies: [oauth2]
                """, "readme.yaml");
        assertThat(c.routes().get(1).policies()).singleElement().isInstanceOf(ForwardAuthPolicyConfig.class);
    }

    @Test
    void defaultsCopyEveryRequestFieldFor2sDenyingOnFailureWithoutCache() {
        ForwardAuthPolicyConfig f = (ForwardAuthPolicyConfig) parse("""
                default_policies: [{forward_auth: {url: "https://auth.example"}}]
                """).policies().defaults().get(0);
        assertThat(f.copiesAllRequestHeaders()).isTrue();
        assertThat(f.copyResponseHeaders()).isEmpty();
        assertThat(f.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(f.onFailure()).isEqualTo(OnFailure.DENY);
        assertThat(f.cache()).isZero();
        assertThat(f.type()).isEqualTo("forward_auth");
        assertThat(f).isEqualTo(ForwardAuthPolicyConfig.builder("https://auth.example").build());
        ForwardAuthPolicyConfig none = (ForwardAuthPolicyConfig) parse("""
                default_policies: [{forward_auth: {url: "http://a", copy_request_headers: []}}]
                """).policies().defaults().get(0);
        assertThat(none.copiesAllRequestHeaders()).isFalse();
        assertThat(none.copyRequestHeaders()).isEmpty();
    }

    @Test
    void everyProblemNamesItsKeyPath() {
        List<String> problems = problems("""
                policies:
                  a: {forward_auth: {copy_response_headers: [X-User]}}
                  b: {forward_auth: {url: "ftp://auth.example/x"}}
                  c: {forward_auth: {url: "http://a", timeout: 0s}}
                  d: {forward_auth: {url: "http://a", on_failure: maybe}}
                  e: {forward_auth: {url: "http://a", copy_request_headers: [Connection]}}
                  f: {forward_auth: {url: "http://a", copy_response_headers: ["X User"]}}
                  g: {forward_auth: {url: "http://a", cache: -1s}}
                  h: {forward_auth: {url: "http://a", bogus: 1}}
                  i: {forward_auth: {url: "http://a#frag"}}
                  j: {forward_auth: {url: "http://a", copy_request_headers: ["*", Cookie]}}
                """);
        assertThat(problems).contains("policies.a.forward_auth.url: is required");
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("policies.b.forward_auth.url: ")
                .contains("ftp"));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("policies.c.forward_auth.timeout: "));
        assertThat(problems).contains("policies.d.forward_auth.on_failure: expected deny or allow, got \"maybe\"");
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.e.forward_auth.copy_request_headers: names Connection, which is never copied"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.f.forward_auth.copy_response_headers: has \"X User\", not a field name"));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("policies.g.forward_auth.cache: "));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("policies.h.forward_auth.bogus: unknown key"));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("policies.i.forward_auth.url: ")
                .contains("fragment"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("policies.j.forward_auth.copy_request_headers: has \"*\""));
    }

    @Test
    void theBuilderValidatesLikeTheLoader() {
        assertThatThrownBy(() -> ForwardAuthPolicyConfig.builder("auth.example/verify").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("url ");
        assertThatThrownBy(() -> ForwardAuthPolicyConfig.builder("http://a").copyResponseHeaders("Content-Length")
                .build()).hasMessageContaining("cannot be set on a request");
        assertThatThrownBy(() -> ForwardAuthPolicyConfig.builder("http://a").timeout(Duration.ZERO).build())
                .hasMessage("timeout must be positive");
    }
}
