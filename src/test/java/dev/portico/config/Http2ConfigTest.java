package dev.portico.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The listener mapping form with {@code h2c}, the {@code http2} section and {@code timeouts.tunnel_idle}. */
class Http2ConfigTest {
    private static final String ROUTES = "routes:\n  /: http://127.0.0.1:8000\n";

    @Test
    void readsListenMappingsNextToStrings() {
        ProxyConfig c = YamlConfigLoader.parse("""
                listen:
                  - 127.0.0.1:8080
                  - {address: 127.0.0.1:8081, h2c: true}
                  - address: "[::1]:8082"
                    h2c: false
                """ + ROUTES, "t.yaml");

        assertThat(c.listen()).extracting(ListenerConfig::address).containsExactly(new ListenAddress("127.0.0.1", 8080),
                new ListenAddress("127.0.0.1", 8081, true), new ListenAddress("::1", 8082));
        assertThat(c.http2()).isEqualTo(Http2Config.DEFAULTS);
        assertThat(c.timeouts().tunnelIdle()).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void readsEveryHttp2Key() {
        ProxyConfig c = YamlConfigLoader.parse("""
                listen: 127.0.0.1:8080
                http2:
                  max_concurrent_streams: 50
                  max_header_list_size: 16KiB
                  max_resets: 100
                  reset_window: 10s
                  max_small_continuation_frames: 8
                  max_queued_control_frames: 5000
                  max_control_frames_per_second: 20
                """ + ROUTES, "t.yaml");

        assertThat(c.http2()).isEqualTo(new Http2Config(50, 16 * 1024, 100, Duration.ofSeconds(10), 8, 5000, 20));
    }

    @Test
    void reportsListenAndHttp2ProblemsWithTheirPaths() {
        assertThat(problemsOf("""
                listen:
                  - {address: 127.0.0.1:8080, h2c: yes, bogus: 1}
                  - {h2c: true}
                http2: {max_concurrent_streams: 0, max_header_list_size: 10, reset_window: 1500ms, streams: 1}
                """ + ROUTES)).containsExactly(
                "listen[0].bogus: unknown key (known: address, tls, redirect_https, h2c, proxy_protocol, http3)",
                "listen[0].h2c: expected true or false, got \"yes\"",
                "listen[1].address: is required (host:port)",
                "http2.streams: unknown key (known: max_concurrent_streams, max_header_list_size, max_resets, "
                        + "reset_window, max_small_continuation_frames, max_queued_control_frames, "
                        + "max_control_frames_per_second)",
                "http2.max_concurrent_streams: must be between 1 and 2147483647, got 0",
                "http2.max_header_list_size: must be between 1024 and 2147483647, got 10",
                "http2.reset_window: must be whole seconds between 1s and 1h, got 1500ms");
    }

    @Test
    void reportsTheSameAddressTwiceWhateverItsForm() {
        assertThat(problemsOf("""
                listen: [127.0.0.1:8080, {address: 127.0.0.1:8080, h2c: true}]
                """ + ROUTES)).containsExactly("listen[1]: 127.0.0.1:8080 is listed twice");
    }

    @Test
    void readsTunnelIdle() {
        assertThat(YamlConfigLoader.parse("listen: 127.0.0.1:8080\ntimeouts: {tunnel_idle: 10m}\n" + ROUTES, "t.yaml")
                .timeouts().tunnelIdle()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void rejectsANonPositiveTunnelIdle() {
        assertThat(problemsOf("listen: 127.0.0.1:8080\ntimeouts: {tunnel_idle: 0s}\n" + ROUTES))
                .containsExactly("timeouts.tunnel_idle: must be positive, got \"0s\"");
    }

    @Test
    void theBuilderTakesListenersAndLimits() {
        Http2Config limits = new Http2Config(10, 8192, 20, Duration.ofSeconds(5), 4, 100, 10);
        ProxyConfig c = ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).http2(limits)
                .route("/", "http://127.0.0.1:1").build();

        assertThat(c.listen().get(0).address().h2c()).isTrue();
        assertThat(c.http2()).isEqualTo(limits);
        assertThatIllegalArgumentException().isThrownBy(() -> new Http2Config(0, 8192, 20,
                Duration.ofSeconds(5), 4, 100, 10)).withMessageContaining("max_concurrent_streams");
    }

    private static List<String> problemsOf(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> YamlConfigLoader.parse(yaml, "t.yaml"));
        assertThat(e).as("ConfigException for:%n%s", yaml).isNotNull();
        return e.problems();
    }
}
