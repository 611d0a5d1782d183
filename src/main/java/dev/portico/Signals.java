package dev.portico;

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
     * Runs {@code action} on each delivery of a signal, e.g. {@code HUP} (reload) or {@code USR1} (reopen logs).
     * Where the JVM does not let the signal be handled, its default applies and a DEBUG line says so.
     */
    static void on(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                LOG.info("SIG{} received", name);
                action.run();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
        }
    }
}
