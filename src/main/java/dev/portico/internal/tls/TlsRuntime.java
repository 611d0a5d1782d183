package dev.portico.internal.tls;

import dev.portico.config.ConfigException;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ListenerTlsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.config.ServerConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamTlsConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS side of a running proxy: each TLS listener's certificates, each {@code https://} route's client
 * settings, and the thread that watches the certificate files. Built before anything binds, so a bad file stops
 * the start with a configuration error.
 */
public final class TlsRuntime {
    /** The system property giving how often certificate files are checked for changes, in milliseconds. */
    public static final String RELOAD_CHECK_PROPERTY = "portico.tls.reloadCheckMillis";
    /** How often certificate files are checked for changes unless the property says otherwise. */
    public static final long DEFAULT_RELOAD_CHECK_MILLIS = 2000;
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final List<ServerTls> listeners = new CopyOnWriteArrayList<>();
    /** The TLS clients of the live upstreams, whose files are watched too. */
    private final Set<UpstreamTlsClient> upstreamClients = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService watcher;

    private TlsRuntime() {
    }

    /**
     * Reads every certificate and key the configuration names.
     *
     * @param config the configuration
     * @return the TLS runtime; it watches nothing until {@link #startWatching}
     * @throws ConfigException with every bad file, each with its key path
     */
    public static TlsRuntime create(ProxyConfig config) {
        TlsRuntime tls = new TlsRuntime();
        List<String> problems = new ArrayList<>();
        boolean any = config.listen().stream().anyMatch(l -> l.tls() != null)
                || config.routes().stream().anyMatch(r -> r.upstream().tls() != null);
        // Upstream TLS clients are built with their upstreams (ProxyRuntime), at start and on reload.
        if (any) {
            LOG.info(TlsProvider.describe());
        }
        for (int i = 0; i < config.listen().size(); i++) {
            ListenerConfig l = config.listen().get(i);
            ServerTls server = null;
            if (l.tls() != null) {
                try {
                    server = new ServerTls(l.tls(), "listen[" + i + "].tls");
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
            tls.listeners.add(server);
        }
        if (!problems.isEmpty()) {
            throw new ConfigException("configuration", problems);
        }
        return tls;
    }

    /**
     * @param index the listener's index in {@code listen}
     * @return its TLS, or {@code null} for a plain listener
     */
    public ServerTls listener(int index) {
        return listeners.get(index);
    }

    /**
     * Builds the TLS client of each {@code https://} server of an upstream, and warns at once if it does not verify.
     *
     * @param up the upstream
     * @param keyPath where its TLS settings are in the config, for messages
     * @param handshakeMillis the longest a backend handshake may take
     * @return the clients by server (empty for an upstream of {@code http://} servers)
     * @throws IllegalArgumentException naming the key path, if a file is missing or bad
     */
    public static Map<ServerConfig, UpstreamTlsClient> upstreamClients(UpstreamConfig up, String keyPath,
                                                                        long handshakeMillis) {
        UpstreamTlsConfig u = up.tls();
        if (u == null) {
            return Map.of();
        }
        Map<ServerConfig, UpstreamTlsClient> clients = new IdentityHashMap<>();
        for (ServerConfig server : up.servers()) {
            if (server.url().tls()) {
                clients.put(server, new UpstreamTlsClient(u, server.url().host(), server.url().port(),
                        handshakeMillis, keyPath, alpn(up.protocol())));
            }
        }
        if (u.insecureSkipVerify()) {
            LOG.warn("{}: insecure_skip_verify is on: the certificates of {} are not checked; anyone on the path "
                    + "can read and change this traffic", keyPath, up);
        }
        return clients;
    }

    /** What a backend connection offers in ALPN: HTTP/1.1 backends get no ALPN at all, as before. */
    private static List<String> alpn(UpstreamConfig.Protocol protocol) {
        return switch (protocol) {
            case H2 -> List.of("h2");
            case AUTO -> List.of("h2", "http/1.1");
            default -> List.of();
        };
    }

    /**
     * TLS for a listener a reload added; its files are watched like the others'.
     *
     * @param config the listener's TLS settings
     * @param keyPath where they are in the config, for messages
     * @return the listener's TLS
     * @throws IllegalArgumentException naming the key path, if a file is missing or bad
     */
    public ServerTls add(ListenerTlsConfig config, String keyPath) {
        ServerTls server = new ServerTls(config, keyPath);
        listeners.add(server);
        startWatching();
        return server;
    }

    /**
     * Stops watching the files of a listener's TLS that a reload replaced or removed.
     *
     * @param server the listener's former TLS
     */
    public void remove(ServerTls server) {
        listeners.replaceAll(l -> l == server ? null : l);
    }

    /**
     * Watches the CA, certificate and key files of a new upstream's TLS clients.
     *
     * @param clients the clients
     */
    public void watch(Collection<UpstreamTlsClient> clients) {
        if (!clients.isEmpty()) {
            upstreamClients.addAll(clients);
            startWatching();
        }
    }

    /**
     * Stops watching the files of a retired upstream's TLS clients.
     *
     * @param clients the clients
     */
    public void unwatch(Collection<UpstreamTlsClient> clients) {
        upstreamClients.removeAll(clients);
    }

    /**
     * Starts checking the certificate files for changes on a thread of its own, if any listener or upstream has
     * TLS.
     */
    public synchronized void startWatching() {
        if (watcher != null || listeners.stream().allMatch(l -> l == null) && upstreamClients.isEmpty()) {
            return;
        }
        long every = Long.getLong(RELOAD_CHECK_PROPERTY, DEFAULT_RELOAD_CHECK_MILLIS);
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "portico-tls-reload");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::reloadChanged, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Re-reads the certificate files that changed, of listeners and of upstreams; bad ones keep the current
     * certificates (and are logged).
     *
     * @return how many listeners and upstreams took new certificates
     */
    public int reloadChanged() {
        int reloaded = 0;
        for (ServerTls l : listeners) {
            try {
                if (l != null && l.reloadIfChanged()) {
                    reloaded++;
                }
            } catch (RuntimeException e) {
                LOG.warn("certificate reload failed: {}", e.toString(), e);
            }
        }
        Set<String> swapped = new HashSet<>();
        for (UpstreamTlsClient c : upstreamClients) {
            try {
                if (c.reloadIfChanged() && swapped.add(c.keyPath())) {
                    reloaded++;
                    LOG.info("{}: TLS files changed; new connections to the backend use them", c.keyPath());
                }
            } catch (IllegalArgumentException e) {
                LOG.warn("TLS files changed but cannot be used; keeping the current ones: {}", e.getMessage());
            }
        }
        return reloaded;
    }

    /** Stops watching the files. */
    public synchronized void close() {
        if (watcher != null) {
            watcher.shutdownNow();
            watcher = null;
        }
    }
}
