package dev.portico;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT handling. A JVM shutdown hook would leave exit code 143; handling the signals ourselves lets
 * the main thread drain and exit 0 after a graceful shutdown.
 */
final class Signals {
    private static final Logger LOG = LoggerFactory.getLogger("portico");

    private Signals() {
    }

    /**
     * The first SIGTERM or SIGINT runs {@code graceful}; any later one runs {@code fast}, as nginx's fast shutdown:
     * an operator who asks twice does not want to wait for the drain.
     */
    static void onTermination(Runnable graceful, Runnable fast) {
        AtomicInteger received = new AtomicInteger();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                    if (received.getAndIncrement() == 0) {
                        LOG.info("SIG{} received: shutting down gracefully (send it again to stop at once)", name);
                        graceful.run();
                    } else {
                        LOG.warn("SIG{} received again: stopping at once, exchanges in flight are cut", name);
                        fast.run();
                    }
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                LOG.debug("cannot handle SIG{}; the JVM default applies", name, e);
            }
        }
    }

    /**
     * As {@link #on}, for an action on a proxy that may still be starting: a delivery waits until {@code started}
     * completes, runs {@code action} if it completed with {@code true} (not if the start failed), and is only
     * logged if the proxy stopped meanwhile (a SIGTERM's shutdown).
     */
    static void onceStarted(String name, CompletableFuture<Boolean> started, Runnable action) {
        on(name, () -> {
            if (!started.join()) {
                return;
            }
            try {
                action.run();
            } catch (IllegalStateException e) {
                LOG.info("SIG{} ignored: the proxy is not running ({})", name, e.getMessage());
            }
        });
    }

    /**
     * Runs {@code action} on each delivery of a signal, e.g. {@code HUP} (reload) or {@code USR1} (reopen logs).
     * Where the JVM does not let the signal be handled, its default applies and a WARN line says so.
     */
    static void on(String name, Runnable action) {
        try {
            sun.misc.SignalHandler previous = sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                LOG.info("SIG{} received", name);
                action.run();
            });
            if (previous == sun.misc.SignalHandler.SIG_IGN && name.equals("HUP")) {
                // The JVM keeps SIGHUP ignored if it was when the process started, as nohup asks.
                LOG.warn("SIGHUP was ignored when Portico started (nohup?) and stays ignored: it will not reload the "
                        + "configuration; POST /reload on the admin endpoint or reload.watch do");
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
        }
    }
}
