package dev.portico.internal.tls;

import dev.portico.config.CertificateConfig;
import dev.portico.config.ListenerTlsConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS of one listener: its current certificates, swapped as a whole when their files change. A handshake uses the
 * certificates current when the client's hello arrives; connections already open keep theirs.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    /**
     * The largest ClientHello buffered to read its server name, as OpenSSL caps it: without a cap a client could
     * make each connection hold up to 16 MiB until the handshake deadline.
     */
    static final int MAX_CLIENT_HELLO = 128 * 1024;

    private final ListenerTlsConfig config;
    private final String keyPath;
    private final List<Path> files = new ArrayList<>();
    /** What the files held when last read; touched only by the reloading thread. */
    private byte[][] seen;
    private volatile ServerCertificates current;
    private final Mapping<String, SslContext> mapping = name -> current.forName(name);
    /** Told after new certificates were swapped in (the listener's QUIC contexts follow them). */
    private final List<Runnable> reloadListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Reads the files and builds the contexts.
     *
     * @param config the listener's TLS settings
     * @param keyPath their key path, e.g. {@code listen[0].tls}
     * @throws IllegalArgumentException naming the key path, if a file is missing or bad
     */
    public ServerTls(ListenerTlsConfig config, String keyPath) {
        this.config = config;
        this.keyPath = keyPath;
        for (CertificateConfig c : config.certificates()) {
            files.add(c.certificate());
            files.add(c.key());
        }
        if (config.clientCa() != null) {
            files.add(config.clientCa());
        }
        seen = contents();
        current = ServerCertificates.build(config, keyPath);
        LOG.info("{}: TLS with certificates for {}", keyPath, current.names().isEmpty() ? "(no names)"
                : String.join(", ", current.names()));
    }

    /**
     * The first stage of a TLS connection: reads the client's hello, picks the certificate by SNI and replaces
     * itself with an {@link SslHandler}. It sets no handshake timeout of its own; the caller's timer covers the
     * whole handshake.
     *
     * @return a new handler for one connection
     */
    public ChannelHandler newHandler() {
        return new SniHandler(mapping, MAX_CLIENT_HELLO, 0) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler h = super.newSslHandler(context, allocator);
                h.setHandshakeTimeoutMillis(0);
                return h;
            }
        };
    }

    /**
     * Re-reads the files if any changed since they were last read, and swaps the certificates in if they are good.
     * A bad file (or a certificate that no longer matches its key, say halfway through an update) keeps the
     * current certificates, and says why. Runs off the event loops: it reads files.
     *
     * @return whether new certificates were swapped in
     */
    synchronized boolean reloadIfChanged() {
        byte[][] now = contents();
        if (Arrays.deepEquals(now, seen)) {
            return false;
        }
        seen = now;
        try {
            ServerCertificates next = ServerCertificates.build(config, keyPath);
            current = next;
            reloadListeners.forEach(Runnable::run);
            LOG.info("{}: certificate files changed; new handshakes use the new certificates ({})", keyPath,
                    String.join(", ", next.names()));
            return true;
        } catch (RuntimeException e) {
            LOG.warn("{}: certificate files changed but cannot be used; keeping the current certificates: {}",
                    keyPath, e.getMessage());
            return false;
        }
    }

    /** @return the listener's TLS settings */
    public ListenerTlsConfig config() {
        return config;
    }

    /** @return the settings' key path, e.g. {@code listen[0].tls} */
    public String keyPath() {
        return keyPath;
    }

    /** @param listener run (on the reloading thread) each time new certificates have been swapped in */
    public void onReload(Runnable listener) {
        reloadListeners.add(listener);
    }

    private byte[][] contents() {
        return contents(files);
    }

    /** @return each file's bytes, or {@code null} for one that cannot be read now */
    static byte[][] contents(List<Path> files) {
        byte[][] out = new byte[files.size()][];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = Files.readAllBytes(files.get(i));
            } catch (IOException e) {
                out[i] = null;
            }
        }
        return out;
    }
}
