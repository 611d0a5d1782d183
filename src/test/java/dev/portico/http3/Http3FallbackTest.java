package dev.portico.http3;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** When HTTP/3 cannot start on a listener, the listener serves TCP as before, says so once, and advertises nothing. */
@Timeout(60)
class Http3FallbackTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;

    @Test
    void aTakenUdpPortLeavesTheListenerTcpOnlyWithOneWarningAndNoAltSvc() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger("portico");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        DatagramSocket taken = null;
        try (TestBackend backend = TestBackend.echo()) {
            // The UDP port is taken; the TCP port of the same number is most likely free (another one if not).
            int port = 0;
            for (int attempt = 0; attempt < 10 && port == 0; attempt++) {
                taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                try {
                    portico.start(ProxyConfig.builder().listen(Http3Fixture.listener(dir, taken.getLocalPort()))
                            .route("/", backend.url()).workers(1).build());
                    port = taken.getLocalPort();
                } catch (java.io.UncheckedIOException e) {
                    taken.close(); // the TCP port of that number was in use: try another
                    appender.list.clear();
                }
            }
            assertThat(port).as("a port free over TCP and taken over UDP").isPositive();

            HttpClient c = HttpClient.newBuilder().sslContext(TestCertificates.trusting(Http3Fixture.ca())).build();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/tcp"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("alt-svc")).isEmpty();
            List<String> warnings = appender.list.stream().filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("http3")).toList();
            assertThat(warnings).singleElement().asString()
                    .startsWith("listen[0].http3: cannot bind udp 127.0.0.1:" + port)
                    .endsWith("serving HTTP/1.1 and HTTP/2 only");
        } finally {
            log.detachAppender(appender);
            if (taken != null) {
                taken.close();
            }
        }
    }
}
