package dev.portico.testing;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts Portico on 127.0.0.1:0 for a test and stops it afterwards. Register with {@code @RegisterExtension}, call
 * {@link #start} with the routes (backend ports are only known at run time), then use {@link #port()}.
 */
public final class PorticoExtension implements AfterEachCallback {
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private ProxyServer proxy;

    /** Starts a proxy listening on 127.0.0.1:0; {@code config} adds routes and settings. */
    public ProxyServer start(Consumer<ProxyConfig.Builder> config) {
        ProxyConfig.Builder b = ProxyConfig.builder().listen("127.0.0.1", 0).workers(1);
        config.accept(b);
        return start(b.build());
    }

    public ProxyServer start(ProxyConfig config) {
        if (proxy != null) {
            proxy.stop();
        }
        proxy = new ProxyServer(config).start();
        return proxy;
    }

    public int port() {
        return proxy.port();
    }

    public ProxyServer proxy() {
        return proxy;
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    /** A GET through the proxy with the JDK client. */
    public HttpResponse<String> get(String pathAndQuery) throws Exception {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(10)).build());
    }

    public HttpResponse<String> send(HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    public HttpClient client() {
        return client;
    }

    public RawClient raw() throws java.io.IOException {
        return new RawClient(port());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (proxy != null) {
            proxy.stop();
            proxy = null;
        }
    }
}
