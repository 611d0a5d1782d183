package dev.portico.internal.ops;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Logback's first configurator (registered as a service): it applies the set-up the main program asked for with
 * {@link #request} before SLF4J started, and otherwise steps aside. Logback's own search (a serialized model, then
 * {@code logback-test.xml} and {@code logback.xml}, then its console fallback, which the main program used to
 * replace) is then skipped: tens of milliseconds of start-up. In an application that embeds Portico nothing asks,
 * and Logback goes on as usual.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_TOP_PRIORITY)
public final class MainLogConfigurator extends ContextAwareBase implements Configurator {
    private static final AtomicReference<Consumer<LoggerContext>> REQUESTED = new AtomicReference<>();

    /** Logback makes it, through the service loader. */
    public MainLogConfigurator() {
    }

    /**
     * Asks for {@code setUp} to configure Logback when it starts.
     *
     * @param setUp what configures the context
     */
    public static void request(Consumer<LoggerContext> setUp) {
        REQUESTED.set(setUp);
    }

    /**
     * Takes back a request not yet applied.
     *
     * @return whether it had not been applied (the caller then configures Logback itself)
     */
    public static boolean withdraw() {
        return REQUESTED.getAndSet(null) != null;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        Consumer<LoggerContext> setUp = REQUESTED.getAndSet(null);
        if (setUp == null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        setUp.accept(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
