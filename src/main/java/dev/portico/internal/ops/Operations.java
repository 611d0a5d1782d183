package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import dev.portico.config.AdminAuthConfig;
import dev.portico.config.ListenAddress;
import dev.portico.internal.server.ProxyRuntime;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations side of a running proxy: its admin endpoint (if {@code admin.listen} is set), configuration
 * reload, and the file watch (if {@code reload.watch}). Started after the proxy's listeners are bound.
 */
public final class Operations implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final ProxyRuntime runtime;
    private final ConfigReloader reloader;
    private final AdminServer admin;
    private FileWatcher watcher;
    /** Runs cache purges, one at a time. */
    private final java.util.concurrent.ExecutorService purger = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "portico-purge");
                t.setDaemon(true);
                return t;
            });
    /** The outcome of the last reload, for the dashboard; null before the first. */
    private volatile LastReload lastReload;

    /**
     * A reload's outcome as the dashboard shows it.
     *
     * @param atMillis when it ended, in milliseconds since the epoch
     * @param why what asked for it
     * @param result its outcome
     */
    record LastReload(long atMillis, String why, ReloadResult result) {
        String json() {
            StringBuilder sb = new StringBuilder("{\"at\":").append(atMillis).append(",\"why\":");
            ConfigJson.string(sb, why);
            return sb.append(",\"result\":").append(AdminHandler.json(result).strip()).append('}').toString();
        }
    }

    private Operations(ProxyRuntime runtime, Path configFile, ListenAddress adminListen) {
        this.runtime = runtime;
        this.reloader = new ConfigReloader(runtime, configFile);
        this.admin = adminListen == null ? null
                : AdminServer.start(adminListen, runtime.config().operations().admin().tls(), this);
    }

    /**
     * Starts the admin endpoint and the file watch as the configuration asks.
     *
     * @param runtime the running proxy
     * @param configFile the file the configuration came from, or {@code null}
     * @return the operations
     * @throws java.io.UncheckedIOException if the admin address cannot be bound
     */
    public static Operations start(ProxyRuntime runtime, Path configFile) {
        Operations ops = new Operations(runtime, configFile, runtime.config().operations().adminListen());
        if (ops.admin != null) {
            InetSocketAddress a = ops.admin.address();
            LOG.info("admin endpoint at {}", new ListenAddress(a.getAddress().getHostAddress(), a.getPort()));
        }
        ops.syncWatcher();
        return ops;
    }

    /**
     * Reloads the configuration file: validated off the event loops, applied only if valid.
     *
     * @param why what asked for it, for the log
     * @return the outcome, once known
     */
    public CompletableFuture<ReloadResult> reload(String why) {
        return reloader.reload(why).thenApply(r -> {
            lastReload = new LastReload(System.currentTimeMillis(), why, r);
            syncWatcher();
            return r;
        });
    }

    /** Reopens the access log file (SIGUSR1, after log rotation). */
    public void reopenAccessLog() {
        runtime.accessLog().reopen();
        LOG.info("access log reopened");
    }

    /** @return the admin endpoint's bound address, or {@code null} if there is none */
    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
    }

    /** @return the running proxy */
    ProxyRuntime runtime() {
        return runtime;
    }

    /** @return the last reload's outcome, or {@code null} */
    LastReload lastReload() {
        return lastReload;
    }

    /** @return the running configuration's {@code admin.auth}, or {@code null} */
    AdminAuthConfig adminAuth() {
        return runtime.config().operations().admin().auth();
    }

    boolean ready() {
        return runtime.ready();
    }

    String scrape() {
        return runtime.metrics().scrape();
    }

    /** @return the metrics in the format the scraper's {@code Accept} asks for (OpenMetrics carries exemplars) */
    String scrape(String accept) {
        return runtime.metrics().scrape(accept);
    }

    /**
     * Purges on a thread of its own: a purge walks a store's entries under its lock, which is no work for the admin
     * event loop.
     *
     * @return completes with the answer to a cache purge (see {@link CachePurge}), or with the
     *     {@link IllegalArgumentException} naming what is wrong with the body
     */
    CompletableFuture<String> purgeCache(String body) {
        try {
            return CompletableFuture.supplyAsync(() -> CachePurge.purge(body, runtime.caches()), purger);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e); // closing
        }
    }

    String configJson() {
        return ConfigJson.of(runtime.config());
    }

    /** Starts or stops the file watch to match {@code reload.watch} of the running configuration. */
    private synchronized void syncWatcher() {
        boolean want = runtime.config().operations().watch() && reloader.file() != null;
        if (want && watcher == null) {
            try {
                watcher = new FileWatcher(reloader.file(), this::reload, runtime::config);
            } catch (IOException e) {
                LOG.error("reload.watch: cannot watch {}: {}", reloader.file(), e.toString());
            }
        } else if (!want && watcher != null) {
            watcher.close();
            watcher = null;
        }
    }

    /** Stops the watch, reloads and the admin endpoint. */
    @Override
    public synchronized void close() {
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        reloader.close();
        purger.shutdownNow();
        if (admin != null) {
            admin.close();
        }
    }
}
