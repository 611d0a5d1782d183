package dev.portico.http3;

import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.TestCertificates;
import dev.portico.testing.TestCertificates.Issued;
import dev.portico.testing.TestCertificates.Pem;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** A TLS listener with {@code http3: true} and a certificate for {@code localhost}, issued by a test CA. */
final class Http3Fixture {
    private static Issued ca;
    private static Issued server;

    private Http3Fixture() {
    }

    static synchronized Issued ca() throws Exception {
        if (ca == null) {
            ca = TestCertificates.ca("HTTP/3 test CA");
            server = TestCertificates.server(ca, "localhost");
        }
        return ca;
    }

    /** @return the listener: 127.0.0.1, an ephemeral port, TLS, http3 */
    static ListenerConfig listener(Path dir, int port) throws Exception {
        ca();
        Pem pem = server.write(dir, "localhost", TestCertificates.KeyFormat.PKCS8);
        return ListenerConfig.builder().address("127.0.0.1", port).tls(t -> t.certificate(pem.certificate(),
                pem.key())).http3(true).build();
    }

    /** Starts Portico with the HTTP/3 listener and what {@code rest} adds (routes, limits). */
    static void start(PorticoExtension portico, Path dir, UnaryOperator<ProxyConfig.Builder> rest) throws Exception {
        ListenerConfig l = listener(dir, 0);
        portico.start(rest.apply(ProxyConfig.builder().listen(l).workers(1)).build());
    }
}
