package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portico.config.RateLimitPolicyConfig.HeaderStyle;
import dev.portico.config.RateLimitPolicyConfig.OnStoreFailure;
import dev.portico.config.RateLimitPolicyConfig.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code redis:} section and the {@code rate_limit} policy: defaults, every key, and the errors. */
class RateLimitConfigTest {
    private static final String HEAD = """
            listen: 127.0.0.1:8080
            routes:
              - path: /
                upstream: http://127.0.0.1:8000
                policies: [limit]
            """;

    private static ProxyConfig parse(String yaml) {
        return ProxyConfig.parse(HEAD + yaml, "r.yaml");
    }

    private static List<String> problems(String yaml) {
        return catchThrowableOfType(() -> parse(yaml), ConfigException.class).problems();
    }

    private static RateLimitPolicyConfig limit(ProxyConfig c) {
        return (RateLimitPolicyConfig) c.routes().get(0).policies().get(0);
    }

    @Test
    void onlyTheRateIsRequiredAndTheDefaultsAreTheIssuesOnes() {
        RateLimitPolicyConfig r = limit(parse("""
                policies:
                  limit:
                    rate_limit: {rate: 100/s}
                """));
        assertThat(r.name()).isEqualTo("limit");
        assertThat(r.key()).containsExactly("client_ip");
        assertThat(r.rate()).isEqualTo(100);
        assertThat(r.per()).isEqualTo(Duration.ofSeconds(1));
        assertThat(r.burst()).isEqualTo(100);
        assertThat(r.store()).isEqualTo(Store.LOCAL);
        assertThat(r.onStoreFailure()).isEqualTo(OnStoreFailure.ALLOW);
        assertThat(r.headers()).isEqualTo(HeaderStyle.IETF);
        assertThat(r.lease()).isZero();
        assertThat(r).isEqualTo(RateLimitPolicyConfig.builder("100/s").name("limit").build());
    }

    @Test
    void everyKeyIsRead() {
        ProxyConfig c = parse("""
                redis:
                  url: redis://:s3cret@redis.internal:6380/2
                  timeout: 20ms
                policies:
                  limit:
                    rate_limit:
                      key: [client_ip, "header:X-Api-Key", route, "jwt_claim:sub"]
                      rate: 20/m
                      burst: 40
                      store: redis
                      on_store_failure: deny
                      headers: legacy
                      lease: 5
                """);
        RateLimitPolicyConfig r = limit(c);
        assertThat(r.key()).containsExactly("client_ip", "header:X-Api-Key", "route", "jwt_claim:sub");
        assertThat(r.rateText()).isEqualTo("20/m");
        assertThat(r.burst()).isEqualTo(40);
        assertThat(r.store()).isEqualTo(Store.REDIS);
        assertThat(r.onStoreFailure()).isEqualTo(OnStoreFailure.DENY);
        assertThat(r.headers()).isEqualTo(HeaderStyle.LEGACY);
        assertThat(r.lease()).isEqualTo(5);
        assertThat(c.redis().url()).isEqualTo("redis://redis.internal:6380/2");
        assertThat(c.redis().password()).isEqualTo("s3cret");
        assertThat(c.redis().timeout()).isEqualTo(Duration.ofMillis(20));
        assertThat(c.redis().toString()).doesNotContain("s3cret");
    }

    @Test
    void aPasswordFileIsReadIntoTheRecordSoARotatedFileChangesIt(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("redis.pass"), "first\n");
        String yaml = HEAD + """
                redis: {url: "rediss://cache:6379", password_file: redis.pass}
                policies:
                  limit: {rate_limit: {rate: 1/s, store: redis}}
                """;
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, yaml);
        RedisConfig one = ProxyConfig.load(file).redis();
        Files.writeString(dir.resolve("redis.pass"), "second\n");
        RedisConfig two = ProxyConfig.load(file).redis();

        assertThat(one.password()).isEqualTo("first");
        assertThat(one.tls()).isTrue();
        assertThat(one.timeout()).isEqualTo(RedisConfig.DEFAULT_TIMEOUT);
        assertThat(two).isNotEqualTo(one);
    }

    @Test
    void storeRedisWithoutARedisSectionNamesTheKey() {
        assertThat(problems("""
                policies:
                  limit: {rate_limit: {rate: 10/s, store: redis}}
                """)).containsExactly("policies.limit.rate_limit.store: redis needs the top-level redis: section "
                + "(redis.url)");
    }

    @Test
    void theBuilderRefusesStoreRedisWithoutRedisToo() {
        RateLimitPolicyConfig shared = RateLimitPolicyConfig.builder("10/s").store(Store.REDIS).build();
        ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1:0")
                .route("/", r -> r.upstream("http://127.0.0.1:8000").policies(shared));

        assertThatThrownBy(b::build).isInstanceOf(ConfigException.class)
                .hasMessageContaining("redis: is required by rate_limit policy \"default\" (store: redis)");
        assertThat(b.redis("redis://127.0.0.1:6379", r -> r.timeout(Duration.ofMillis(30))).build().redis()
                .timeout()).isEqualTo(Duration.ofMillis(30));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rate: 10                       | policies.limit.rate_limit.rate: expected N/s, N/m or N/h, got 10",
        "rate: 10/d                     | policies.limit.rate_limit.rate: expected N/s, N/m or N/h, got \"10/d\"",
        "rate: 0/s                      | policies.limit.rate_limit.rate: must be at least 1 per period, got 0",
        "burst: 0                       | policies.limit.rate_limit.burst: must be at least 1, got 0",
        "key: ip                        | policies.limit.rate_limit.key: expected client_ip, header:NAME, route or "
                + "jwt_claim:NAME, got \"ip\"",
        "'key: \"header:\"'             | policies.limit.rate_limit.key: expected client_ip, header:NAME, route or "
                + "jwt_claim:NAME, got \"header:\"",
        "store: memcached               | policies.limit.rate_limit.store: expected one of local, redis, got \"memcached\"",
        "on_store_failure: maybe        | policies.limit.rate_limit.on_store_failure: expected one of allow, deny, got "
                + "\"maybe\"",
        "headers: draft                 | policies.limit.rate_limit.headers: expected one of ietf, legacy, none, got "
                + "\"draft\"",
        "lease: 5                       | policies.limit.rate_limit.lease: is for store: redis only",
        "window: 1s                     | policies.limit.rate_limit.window: unknown key (known: key, rate, burst, "
                + "store, on_store_failure, headers, lease)",
    })
    void badSettingsAreReportedWithTheirKeyPath(String setting, String problem) {
        String rate = setting.startsWith("rate:") ? "" : "rate: 10/s, ";
        List<String> found = problems("policies:\n  limit:\n    rate_limit: {" + rate + setting + "}\n");
        assertThat(found).containsExactly(problem.strip());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{url: http://127.0.0.1:6379}      | redis.url: url must start with redis:// or rediss://, got "
                + "\"http://127.0.0.1:6379\"",
        "{url: redis://127.0.0.1/x}        | redis.url: url: the path is the database number, got \"/x\"",
        "{url: redis://h:1, timeout: 0ms}  | redis.timeout: must be positive, got \"0ms\"",
        "{timeout: 1s}                     | redis.url: is required (redis://host:port/db)",
        "{url: redis://h:1, password_file: /nonexistent/p} | redis.password_file: cannot read \"/nonexistent/p\": "
                + "No such file",
    })
    void badRedisSectionsAreReportedWithTheirKeyPath(String section, String problem) {
        List<String> found = problems("redis: " + section + "\npolicies:\n  limit: {rate_limit: {rate: 1/s}}\n");
        assertThat(found).containsExactly(problem.strip());
    }
}
