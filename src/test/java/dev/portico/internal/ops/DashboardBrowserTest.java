package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.RestartableBackend;
import dev.portico.testing.TestBackend;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in a real browser (its login form, routes, endpoints, reload, policy decisions, the cache and its
 * purge form, signing out): the
 * system's headless Chromium driven through the system's chromedriver (Selenium never downloads one). Skipped,
 * saying why, where the browser cannot start.
 */
class DashboardBrowserTest {
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String PASSWORD = "dashboard-pw";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final TestBackend backend = TestBackend.echo();
    private final RestartableBackend dead = new RestartableBackend("dead");
    private ProxyServer proxy;
    private WebDriver browser;

    @TempDir
    Path dir;

    @BeforeEach
    void startBrowser() {
        dead.stop(); // its port now refuses connections: the endpoint that gets ejected
        Assumptions.assumeTrue(new File(CHROMEDRIVER).canExecute(),
                "no " + CHROMEDRIVER + ": install chromium and chromium-driver to run the dashboard's browser test");
        Assumptions.assumeTrue(new File(CHROMIUM).canExecute(),
                "no " + CHROMIUM + ": install chromium to run the dashboard's browser test");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM); // given, so Selenium never looks for (or fetches) a browser of its own
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions");
        // An explicit driver executable keeps Selenium Manager from looking for (or downloading) one.
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        try {
            browser = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            Assumptions.abort("headless Chromium did not start, so the dashboard's browser test is skipped: "
                    + e.getMessage().lines().findFirst().orElse(e.toString()));
        }
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
        dead.close();
    }

    @Test
    @Timeout(120)
    void showsRoutesNumbersThatMoveAnEjectedEndpointAndReloads() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                + "admin:\n  listen: 127.0.0.1:0\n  auth:\n    users: {ops: \"" + Hashes.bcrypt(PASSWORD) + "\"}\n"
                + "upstreams:\n  flaky:\n    servers: [\"" + backend.url() + "\", \"" + dead.url() + "\"]\n"
                + "    passive: {consecutive_failures: 1, eject_for: 60s}\n"
                + "routes:\n  /a: \"" + backend.url() + "\"\n  /b: flaky\n");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        int admin = proxy.adminAddress().getPort();

        signIn(admin);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> text("status").equals("live"));
            assertThat(routeCell("/a", "route")).isEqualTo("/a");
            assertThat(routeCell("/b", "route")).isEqualTo("/b");

            AtomicBoolean running = new AtomicBoolean(true);
            Thread load = new Thread(() -> {
                while (running.get()) {
                    for (String path : List.of("/a/x", "/b/y")) {
                        try {
                            CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                                    .timeout(Duration.ofSeconds(5)).build(), BodyHandlers.discarding());
                        } catch (Exception e) {
                            return;
                        }
                    }
                }
            }, "dashboard-load");
            load.start();
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> number(routeCell("/a", "rps")) > 0);
                await().atMost(Duration.ofSeconds(20)).until(() -> !browser.findElements(
                        By.cssSelector("#endpoints tr.ejected")).isEmpty());
                WebElement ejected = browser.findElement(By.cssSelector("#endpoints tr.ejected"));
                assertThat(ejected.getText()).contains(dead.url().substring("http://".length()))
                        .contains("ejected until").contains("connect");
                assertThat(number(text("t-rps"))).isPositive();
            } finally {
                running.set(false);
                load.join();
            }

            browser.findElement(By.id("reload-btn")).click();
            await().atMost(Duration.ofSeconds(20)).until(() -> text("reload-result").startsWith("reloaded in"));
            await().atMost(Duration.ofSeconds(10)).until(() -> text("last-reload").contains("applied"));
        } finally {
            screenshot("dashboard.png");
        }
    }

    @Test
    @Timeout(120)
    void showsPolicyDecisionsAndCacheNumbersThatMoveAndItsPurgeFormPurges() throws Exception {
        TestBackend cacheable = TestBackend.start((req, ctx) -> {
            io.netty.handler.codec.http.FullHttpResponse r = TestBackend.text(
                    io.netty.handler.codec.http.HttpResponseStatus.OK, "cacheable");
            r.headers().set("Cache-Control", "max-age=600");
            ctx.writeAndFlush(r);
        });
        try {
            Path file = dir.resolve("portico.yaml");
            Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                    + "admin:\n  listen: 127.0.0.1:0\n  auth:\n    users: {ops: \"" + Hashes.bcrypt(PASSWORD) + "\"}\n"
                    + "routes:\n"
                    + "  - {path: /limited, upstream: \"" + backend.url() + "\", policies: [{rate_limit: {rate: 2/s}}]}\n"
                    + "  - {path: /cached, upstream: \"" + cacheable.url() + "\", policies: [{cache: {}}]}\n");
            proxy = new ProxyServer(ProxyConfig.load(file), file).start();
            signIn(proxy.adminAddress().getPort());
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> text("status").equals("live"));
                assertThat(browser.findElement(By.id("cache-panel")).isDisplayed()).isTrue();
                assertThat(browser.findElement(By.id("purge-form")).isDisplayed()).isTrue();

                AtomicBoolean running = new AtomicBoolean(true);
                Thread load = new Thread(() -> {
                    while (running.get()) {
                        for (String path : List.of("/limited/a", "/cached/x", "/cached/y")) {
                            try {
                                get(path);
                                Thread.sleep(20);
                            } catch (Exception e) {
                                return;
                            }
                        }
                    }
                }, "dashboard-policy-load");
                load.start();
                try {
                    await().atMost(Duration.ofSeconds(20)).until(() -> number(policyCell("rate_limit", "r-limited")) > 0
                            && number(policyCell("rate_limit", "r-allowed")) > 0);
                    await().atMost(Duration.ofSeconds(20)).until(() -> number(text("c-hs")) > 0);
                    double limited = number(policyCell("rate_limit", "n-limited"));
                    double hits = number(cell("#caches td.h"));
                    await().atMost(Duration.ofSeconds(20)).until(() ->
                            number(policyCell("rate_limit", "n-limited")) > limited
                                    && number(cell("#caches td.h")) > hits);
                    assertThat(text("c-hr")).endsWith("%");
                    assertThat(number(text("c-hr"))).as("hit ratio over the window: two misses at most")
                            .isGreaterThan(50);
                    assertThat(text("c-n")).isEqualTo("2");
                } finally {
                    running.set(false);
                    load.join();
                }

                browser.findElement(By.id("purge-host")).sendKeys("127.0.0.1");
                browser.findElement(By.id("purge-prefix")).sendKeys("/cached/");
                browser.findElement(By.id("purge-btn")).click();
                await().atMost(Duration.ofSeconds(20)).until(() -> text("purge-result").startsWith("purged"));
                assertThat(text("purge-result")).isEqualTo("purged 2 entries");
                var after = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port()
                        + "/cached/x")).build(), BodyHandlers.discarding());
                assertThat(after.headers().firstValue("Cache-Status")).hasValueSatisfying(v ->
                        assertThat(v).contains("fwd=uri-miss"));
                await().atMost(Duration.ofSeconds(10)).until(() -> text("c-n").equals("1"));
            } finally {
                screenshot("dashboard-policies-cache.png");
            }
        } finally {
            cacheable.close();
        }
    }

    @Test
    @Timeout(120)
    void signsInThroughTheLoginFormReloadsAndSignsOut() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                + "admin:\n  listen: 127.0.0.1:0\n  auth:\n    users: {ops: \"" + Hashes.bcrypt(PASSWORD) + "\"}\n"
                + "routes:\n  /a: \"" + backend.url() + "\"\n");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        String base = "http://127.0.0.1:" + proxy.adminAddress().getPort();
        try {
            browser.get(base + "/");
            assertThat(browser.getTitle()).isEqualTo("Portico admin: sign in");
            browser.findElement(By.id("login-user")).sendKeys("ops");
            browser.findElement(By.id("login-password")).sendKeys("wrong");
            screenshot("login.png");
            browser.findElement(By.id("login-btn")).click();
            await().atMost(Duration.ofSeconds(10)).until(() -> text("login-message").equals(AdminLogin.FAILED));
            assertThat(browser.manage().getCookies()).isEmpty();

            signIn(proxy.adminAddress().getPort());
            await().atMost(Duration.ofSeconds(20)).until(() -> text("status").equals("live"));
            assertThat(browser.getCurrentUrl()).isEqualTo(base + "/");
            assertThat(routeCell("/a", "route")).isEqualTo("/a");
            var cookie = browser.manage().getCookieNamed("portico-session");
            assertThat(cookie.isHttpOnly()).isTrue();
            assertThat(cookie.getSameSite()).isEqualTo("Strict");
            await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(By.id("signout-btn"))
                    .isDisplayed());
            assertThat(text("signed-in-as")).isEqualTo("ops");

            browser.findElement(By.id("reload-btn")).click();
            await().atMost(Duration.ofSeconds(20)).until(() -> text("reload-result").startsWith("reloaded in"));
            screenshot("dashboard-signed-in.png");

            // Signed out elsewhere (another tab, say): the page's stream is closed and it shows the login form.
            var out = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/logout"))
                    .header("Cookie", "portico-session=" + cookie.getValue()).header("Origin", base)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), BodyHandlers.discarding());
            assertThat(out.statusCode()).isEqualTo(303);
            await().atMost(Duration.ofSeconds(30)).until(() -> browser.getTitle().equals("Portico admin: sign in"));

            signIn(proxy.adminAddress().getPort());
            await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(By.id("signout-btn"))
                    .isDisplayed());

            browser.findElement(By.id("signout-btn")).click();
            await().atMost(Duration.ofSeconds(10)).until(() -> browser.getTitle().equals("Portico admin: sign in"));
            assertThat(browser.manage().getCookieNamed("portico-session")).isNull();
            browser.get(base + "/");
            assertThat(browser.getTitle()).isEqualTo("Portico admin: sign in");
        } finally {
            screenshot("login-signed-out.png");
        }
    }

    /** Signs in as ops through the login form the dashboard shows a browser without a session. */
    private void signIn(int adminPort) {
        browser.get("http://127.0.0.1:" + adminPort + "/");
        await().atMost(Duration.ofSeconds(10)).until(() -> !browser.findElements(By.id("login-form")).isEmpty());
        WebElement user = browser.findElement(By.id("login-user"));
        user.clear();
        user.sendKeys("ops");
        browser.findElement(By.id("login-password")).sendKeys(PASSWORD);
        browser.findElement(By.id("login-btn")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.getTitle().startsWith("Portico dashboard"));
    }

    private int get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                .timeout(Duration.ofSeconds(5)).build(), BodyHandlers.discarding()).statusCode();
    }

    private String policyCell(String policy, String cls) {
        return cell("#policies tr[data-policy='" + policy + "'] td." + cls);
    }

    @Test
    @Timeout(120)
    void pagesAThousandRoutesAndFindsOneByItsName() throws Exception {
        StringBuilder yaml = new StringBuilder("listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                + "admin: {listen: 127.0.0.1:0}\nroutes:\n");
        for (int i = 0; i < 1000; i++) {
            yaml.append("  /r").append(i).append(": \"").append(backend.url()).append("\"\n");
        }
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, yaml);
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        String events = "http://127.0.0.1:" + proxy.adminAddress().getPort() + "/events";
        var stream = CLIENT.send(HttpRequest.newBuilder(URI.create(events)).build(), BodyHandlers.ofLines());
        String full;
        try (var lines = stream.body()) {
            full = lines.filter(l -> l.startsWith("data: ")).findFirst().orElseThrow();
        }

        long start = System.nanoTime();
        browser.get("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/");
        await().atMost(Duration.ofSeconds(30)).until(() -> text("routes-count").equals("(1000)"));
        long shown = System.nanoTime() - start;
        Object drawMillis = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "const t = performance.now(); document.getElementById('routes-sort').dispatchEvent(new Event('change'));"
                        + " return performance.now() - t;");
        System.out.printf("dashboard with 1000 routes: whole state %d KiB, page live with every route in %d ms, "
                + "one redraw of the routes table %s ms%n", full.length() / 1024, shown / 1_000_000, drawMillis);

        assertThat(browser.findElements(By.cssSelector("#routes tbody tr"))).hasSize(50);
        assertThat(browser.findElement(By.id("cache-panel")).isDisplayed()).as("no cache: no panel, no purge form")
                .isFalse();
        assertThat(text("routes-page")).isEqualTo("1 / 20");
        browser.findElement(By.id("routes-next")).click();
        assertThat(routeCell("/r50", "route")).isEqualTo("/r50");
        browser.findElement(By.id("routes-filter")).sendKeys("/r999");
        await().atMost(Duration.ofSeconds(10)).until(() -> text("routes-count").equals("(1)"));
        assertThat(routeCell("/r999", "route")).isEqualTo("/r999");
        screenshot("dashboard-1000-routes.png");
    }

    @Test
    @Timeout(120)
    void showsStalenessWhileTheProxyIsDownAndReconnectsWhenItIsBack() throws Exception {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                + "admin: {listen: 127.0.0.1:0}\nroutes:\n  /a: \"" + backend.url() + "\"\n");
        proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        int admin = proxy.adminAddress().getPort();
        browser.get("http://127.0.0.1:" + admin + "/");
        await().atMost(Duration.ofSeconds(20)).until(() -> text("status").equals("live"));

        proxy.close();
        proxy = null;
        await().atMost(Duration.ofSeconds(20)).until(() -> text("status").startsWith("stale: no update for"));
        assertThat(browser.findElement(By.tagName("body")).getAttribute("class")).contains("stale");

        // The proxy comes back on the same admin address, as after a restart, with one more route.
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\naccess_log: {enabled: false}\n"
                + "admin: {listen: 127.0.0.1:" + admin + "}\nroutes:\n  /a: \"" + backend.url() + "\"\n  /c: \""
                + backend.url() + "\"\n");
        try {
            proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        } catch (java.io.UncheckedIOException e) {
            Assumptions.abort("the admin port was taken by another process meanwhile: " + e.getMessage());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> text("status").equals("live")
                && routeCell("/c", "route").equals("/c"));
        screenshot("dashboard-reconnected.png");
    }

    private String text(String id) {
        return fresh(() -> browser.findElement(By.id(id)).getText().strip());
    }

    private String routeCell(String route, String cls) {
        return cell("#routes tr[data-key^='" + route + " '] td." + cls);
    }

    /**
     * @return the text of the first element matching a CSS selector, or "" if none; read in one script call, as the
     *     page replaces its tables' rows on every update (an element found first and read after may be gone)
     */
    private String cell(String selector) {
        Object t = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector);
        return String.valueOf(t).strip();
    }

    /** Reads the page again when the element read went stale: the page redraws its tables every second. */
    private static String fresh(java.util.function.Supplier<String> read) {
        for (int i = 0; ; i++) {
            try {
                return read.get();
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                if (i == 4) {
                    throw e;
                }
            }
        }
    }

    private static double number(String text) {
        try {
            return Double.parseDouble(text.replaceAll("[^0-9.]", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target");
        Files.createDirectories(target);
        Files.copy(shot.toPath(), target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
