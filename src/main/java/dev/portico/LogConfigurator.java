package dev.portico;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.hook.DefaultShutdownHook;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.portico.proxy.AccessLog;

/**
 * Portico's default logging, set up in code: parsing an XML configuration costs about a quarter of a second of
 * start-up. The access log ({@code portico.access}) goes to stdout, everything else to stderr, both through
 * non-blocking async appenders so an event loop never waits for a terminal or a pipe. A configuration file given
 * with {@code -Dlogback.configurationFile=...} (or a {@code logback-test.xml} on the class path) takes precedence.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    /** Logback instantiates this through the service loader. */
    public LogConfigurator() {
        super();
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
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
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(err);

        DefaultShutdownHook hook = new DefaultShutdownHook();
        hook.setContext(context);
        Runtime.getRuntime().addShutdownHook(new Thread(hook, "logback-shutdown"));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
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
