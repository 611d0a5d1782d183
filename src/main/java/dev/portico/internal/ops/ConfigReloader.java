package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import dev.portico.config.ConfigException;
import dev.portico.config.ProxyConfig;
import dev.portico.internal.server.ProxyRuntime;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the configuration file on a thread of its own (never an event loop), one reload at a time: the file is
 * read and validated, and only a valid configuration that can be applied replaces the running one. Every outcome
 * is logged and counted in {@code portico_reloads_total}.
 */
public final class ConfigReloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private final ProxyRuntime runtime;
    private final Path file;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "portico-reload");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param runtime the running proxy
     * @param file the configuration file, or {@code null} if the configuration did not come from one
     */
    public ConfigReloader(ProxyRuntime runtime, Path file) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.file = file;
    }

    /** @return the configuration file, or {@code null} */
    public Path file() {
        return file;
    }

    /**
     * Reloads the file, asynchronously.
     *
     * @param why what asked for it, for the log ({@code SIGHUP}, {@code POST /reload}, {@code file change})
     * @return the outcome, once known
     */
    public CompletableFuture<ReloadResult> reload(String why) {
        CompletableFuture<ReloadResult> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    result.complete(reloadNow(why));
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                    throw e;
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.complete(new ReloadResult(false, List.of("shutting down"), 0, 0));
        }
        return result;
    }

    private ReloadResult reloadNow(String why) {
        long t0 = System.nanoTime();
        long cpu0 = cpuNanos();
        if (file == null) {
            return refused(why, t0, cpu0, List.of("the configuration was not loaded from a file: nothing to reload"));
        }
        ProxyConfig next;
        try {
            next = ProxyConfig.load(file);
        } catch (ConfigException e) {
            return refused(why, t0, cpu0, named(e));
        }
        long parsed = System.nanoTime();
        ProxyConfig old = runtime.config();
        if (!Objects.equals(next.operations().adminListen(), old.operations().adminListen())) {
            LOG.warn("admin.listen: a change takes a restart; keeping {}", old.operations().adminListen());
        }
        if (!Objects.equals(next.operations().admin().tls(), old.operations().admin().tls())) {
            LOG.warn("admin.tls: a change takes a restart; the admin endpoint keeps its TLS settings");
        }
        try {
            runtime.reload(next);
        } catch (ConfigException e) {
            // A file named by the configuration changed (or proved unusable) between reading and applying.
            return refused(why, t0, cpu0, named(e));
        } catch (UncheckedIOException | IllegalStateException | IllegalArgumentException e) {
            return refused(why, t0, cpu0, List.of(file + ": " + e.getMessage()));
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        long cpuMs = TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu0);
        runtime.metrics().reload(true);
        LOG.info("configuration reloaded ({}): {} routes, {} listeners, in {}ms ({}ms to read and validate; {}ms of "
                + "CPU)", why, next.routes().size(), next.listen().size(), ms,
                TimeUnit.NANOSECONDS.toMillis(parsed - t0), cpuMs);
        return new ReloadResult(true, List.of(), ms, cpuMs);
    }

    private List<String> named(ConfigException e) {
        List<String> named = new ArrayList<>();
        for (String p : e.problems()) {
            named.add(file + ": " + p);
        }
        return named;
    }

    private static long cpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private ReloadResult refused(String why, long t0, long cpu0, List<String> problems) {
        runtime.metrics().reload(false);
        LOG.error("configuration reload ({}) refused; the running configuration stays:\n  {}", why,
                String.join("\n  ", problems));
        return new ReloadResult(false, problems, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu0));
    }

    /** Stops taking reloads; one under way finishes. */
    @Override
    public void close() {
        executor.shutdown();
    }
}
