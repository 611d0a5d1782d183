package dev.portico;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.hook.DefaultShutdownHook;
import dev.portico.internal.ops.MainLogConfigurator;
import dev.portico.internal.proxy.AccessLog;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Portico's default logging when it runs as the main program, set up in code: parsing an XML configuration costs
 * about a quarter of a second of start-up. The access log ({@code portico.access}) goes to stdout, everything else
 * to stderr, both through non-blocking async appenders so an event loop never waits for a terminal or a pipe.
 *
 * <p>Only for the main program: an application that embeds Portico keeps the logging it configured
 * ({@code logback.xml} or anything else), and need not use Logback at all. The set-up is normally made by
 * {@link MainLogConfigurator}, the service Logback asks first, as SLF4J starts.
 */
final class LogConfigurator {
    private LogConfigurator() {
    }

    /**
     * Installs the default set-up, unless a configuration file was given ({@code -Dlogback.configurationFile},
     * or a {@code logback.xml} / {@code logback-test.xml} on the class path) or SLF4J is not bound to Logback.
     * If SLF4J had started before (and Logback had made its console fallback), the set-up replaces that.
     */
    static void configureForMain() {
        ClassLoader loader = LogConfigurator.class.getClassLoader();
        if (System.getProperty("logback.configurationFile") != null || loader.getResource("logback.xml") != null
                || loader.getResource("logback-test.xml") != null) {
            return;
        }
        MainLogConfigurator.request(LogConfigurator::configure);
        ILoggerFactory factory = LoggerFactory.getILoggerFactory(); // starts SLF4J, which applies the request
        if (MainLogConfigurator.withdraw() && factory instanceof LoggerContext context) {
            context.reset(); // SLF4J had started before: drops Logback's fallback console set-up
            configure(context);
        }
    }

    /**
     * Raises the root logger to WARN until the result is closed: the warm-up's own proxy would otherwise log its
     * start and stop (and "listening on", which scripts wait for) as if it were the real one.
     *
     * @return what restores the level; does nothing when SLF4J is not bound to Logback
     */
    static AutoCloseable quiet() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return () -> { };
        }
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        root.setLevel(Level.WARN);
        return () -> root.setLevel(before);
    }

    static void configure(LoggerContext context) {
        AsyncAppender access = async(new CountingAsyncAppender(), context, "ACCESS",
                console(context, "ACCESS_OUT", "System.out", "%msg%n"), 8192);
        access.setDiscardingThreshold(0);
        AsyncAppender err = async(new AsyncAppender(), context, "ERR", console(context, "ERR_OUT", "System.err",
                "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n"), 1024);

        Logger accessLogger = context.getLogger("portico.access");
        accessLogger.setLevel(Level.INFO);
        accessLogger.setAdditive(false);
        accessLogger.addAppender(access);
        context.getLogger("io.netty").setLevel(Level.WARN);
        // rate_limit reports a Redis outage itself, once per 10 s; Lettuce would add its own reconnect warnings.
        context.getLogger("io.lettuce").setLevel(Level.ERROR);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(err);

        DefaultShutdownHook hook = new DefaultShutdownHook();
        hook.setContext(context);
        Runtime.getRuntime().addShutdownHook(new Thread(hook, "logback-shutdown"));
    }

    private static ConsoleAppender<ILoggingEvent> console(LoggerContext context, String name, String target,
                                                          String pattern) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(pattern);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setTarget(target);
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }

    private static AsyncAppender async(AsyncAppender appender, LoggerContext context, String name,
                                       ConsoleAppender<ILoggingEvent> to, int queueSize) {
        appender.setContext(context);
        appender.setName(name);
        appender.setQueueSize(queueSize);
        appender.setNeverBlock(true);
        appender.addAppender(to);
        appender.start();
        return appender;
    }

    /** The access log's appender: a line that finds the queue full is dropped (never waited for) and counted. */
    static final class CountingAsyncAppender extends AsyncAppender {
        @Override
        protected void append(ILoggingEvent event) {
            if (getRemainingCapacity() == 0) {
                AccessLog.countStdoutDrop();
                return;
            }
            super.append(event);
        }
    }
}
