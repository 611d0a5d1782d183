package dev.portico.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects the access log lines ({@code portico.access}), or another logger's messages, while open; the console
 * still gets them.
 */
public final class AccessLogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final List<String> lines = new ArrayList<>();
    private final Logger logger;

    public AccessLogCapture() {
        this("portico.access");
    }

    /** @param name the logger whose messages (and its descendants') to collect, e.g. {@code portico} */
    public AccessLogCapture(String name) {
        logger = (Logger) LoggerFactory.getLogger(name);
        setName("capture-" + name);
        setContext((ch.qos.logback.core.Context) LoggerFactory.getILoggerFactory());
        start();
        logger.addAppender(this);
    }

    @Override
    protected synchronized void append(ILoggingEvent e) {
        lines.add(e.getFormattedMessage());
    }

    /** @return the lines so far */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** @return the first line containing {@code text}, or null */
    public synchronized String find(String text) {
        return lines.stream().filter(l -> l.contains(text)).findFirst().orElse(null);
    }

    @Override
    public void close() {
        logger.detachAppender(this);
        stop();
    }
}
