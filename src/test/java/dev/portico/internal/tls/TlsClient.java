package dev.portico.internal.tls;

import dev.portico.testing.RawClient;
import java.io.IOException;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** A JDK TLS client socket for the tests: SNI as asked, handshake done, 5 s read timeout. */
final class TlsClient {
    private TlsClient() {
    }

    /** @return a socket to 127.0.0.1:port that finished its handshake, sending {@code sni} if not null */
    static SSLSocket connect(SSLContext ctx, int port, String sni) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(5000);
        SSLParameters p = s.getSSLParameters();
        if (sni != null) {
            p.setServerNames(List.of(new SNIHostName(sni)));
        }
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    /** @return the leaf certificate's subject CN the server presented */
    static String serverName(SSLSocket s) throws IOException {
        X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
        return leaf.getSubjectX500Principal().getName().replace("CN=", "");
    }

    /** @return a GET over the socket, read whole */
    static RawClient.Response get(SSLSocket s, String host, String path) throws IOException {
        RawClient c = new RawClient(s);
        c.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        return c.read();
    }
}
