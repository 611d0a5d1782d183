package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portico.config.AccessLogConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * nghttp2's load generator against an h2c listener: 10,000 requests on 4 connections with 100 concurrent streams
 * each must all succeed. Skipped when h2load (apt package nghttp2-client) is not installed.
 */
@Timeout(180)
class H2loadTest {
    private static final Path H2LOAD = Path.of("/usr/bin/h2load");

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    @Test
    void tenThousandRequestsOnFourConnectionsWithAHundredStreamsEachAllSucceed() throws Exception {
        assumeTrue(Files.isExecutable(H2LOAD), "h2load not installed (apt-get install nghttp2-client): skipped");
        try (TestBackend backend = TestBackend.echo()) {
            portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(2)
                    .accessLog(new AccessLogConfig(false)).route("/", backend.url()).build());
            Process p = new ProcessBuilder(H2LOAD.toString(), "-n", "10000", "-c", "4", "-m", "100",
                    "http://127.0.0.1:" + portico.port() + "/load").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(150, TimeUnit.SECONDS)).isTrue();
            assertThat(out).as(out).contains("requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, "
                    + "0 failed, 0 errored, 0 timeout");
            assertThat(out).as(out).contains("status codes: 10000 2xx, 0 3xx, 0 4xx, 0 5xx");
        }
    }
}
