package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.WebSocketBackend;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real browser's WebSocket over HTTP/2: headless Chromium loads a page from a TLS listener (so it holds an h2
 * connection whose SETTINGS offer extended CONNECT) and opens a WebSocket to the same origin, which it then sends
 * as an RFC 8441 extended CONNECT on that connection. Skipped, saying why, where the browser cannot start.
 */
@Timeout(120)
class Http2WebSocketBrowserTest {
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String CHROMIUM = "/usr/bin/chromium";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    @TempDir
    Path dir;
    private WebDriver browser;

    @BeforeEach
    void startBrowser() {
        Assumptions.assumeTrue(new File(CHROMEDRIVER).canExecute() && new File(CHROMIUM).canExecute(),
                "no chromium and chromedriver: install them to run the WebSocket-over-HTTP/2 browser test");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM); // given, so Selenium never looks for (or fetches) a browser of its own
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--ignore-certificate-errors");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        try {
            browser = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            Assumptions.abort("headless Chromium did not start, so the browser test is skipped: "
                    + e.getMessage().lines().findFirst().orElse(e.toString()));
        }
    }

    @AfterEach
    void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void chromiumSendsItsWebSocketAsAnExtendedConnectAndGetsTheEcho() throws Exception {
        TestCertificates.Pem pem = TestCertificates.server(TestCertificates.ca("Test CA"), "a.test", "localhost")
                .write(dir, "a");
        try (WebSocketBackend ws = new WebSocketBackend(); TestBackend page = TestBackend.echo();
             AccessLogCapture log = new AccessLogCapture()) {
            portico.start(ProxyConfig.builder().listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0),
                    ListenerTlsConfig.of(pem.certificate(), pem.key()), false)).workers(1)
                    .route("/ws", ws.url()).route("/", page.url()).build());
            browser.get("https://localhost:" + portico.port() + "/page");
            assertThat(log.find("\"GET /page HTTP/2.0\" 200")).as("the page came over HTTP/2").isNotNull();

            Object echoed = ((JavascriptExecutor) browser).executeAsyncScript(
                    "const done = arguments[arguments.length - 1];"
                    + "const s = new WebSocket('wss://' + location.host + '/ws');"
                    + "s.onopen = () => s.send('hello from chromium');"
                    + "s.onmessage = e => { done(e.data); s.close(); };"
                    + "s.onerror = () => done('error');");
            assertThat(echoed).isEqualTo("hello from chromium");
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(log.find("\"GET /ws HTTP/2.0\" 200")).as("the WebSocket went over the h2 connection")
                            .isNotNull());
        }
    }
}
