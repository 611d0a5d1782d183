package dev.portico.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures, while the fuzzer runs, the access log lines ({@code portico.access}) and every logged exception (a
 * WARN or ERROR carrying a throwable, or any ERROR), which count as a crash of the proxy. Portico's own loggers are
 * detached from the console meanwhile (a rejection per try would flood it) and re-attached by {@link #close()}.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private static final List<String> QUIETED = List.of("portico.access", "portico", "dev.portico");
    private static final String LEAK_LOGGER = "io.netty.util.ResourceLeakDetector";

    private final List<String> access = new ArrayList<>();
    private final List<String> crashes = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    LogCapture() {
        setName("fuzz-capture");
        setContext((ch.qos.logback.core.Context) LoggerFactory.getILoggerFactory());
        start();
        for (String name : QUIETED) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            l.setAdditive(false);
            l.addAppender(this);
        }
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(this);
    }

    @Override
    protected synchronized void append(ILoggingEvent e) {
        String logger = e.getLoggerName();
        if (logger.equals("portico.access")) {
            access.add(e.getFormattedMessage());
            return;
        }
        if (logger.equals(LEAK_LOGGER)) {
            return; // LeakCollector keeps these; the container checks them at the end
        }
        boolean thrown = e.getThrowableProxy() != null;
        if ((e.getLevel().isGreaterOrEqual(Level.WARN) && thrown) || e.getLevel().isGreaterOrEqual(Level.ERROR)) {
            crashes.add(e.getLevel() + " " + logger + ": " + e.getFormattedMessage()
                    + (thrown ? " / " + e.getThrowableProxy().getClassName() + ": "
                    + e.getThrowableProxy().getMessage() : ""));
        } else if (e.getLevel().isGreaterOrEqual(Level.WARN)) {
            warnings.add(e.getFormattedMessage());
        }
    }

    synchronized int accessMark() {
        return access.size();
    }

    synchronized List<String> accessSince(int mark) {
        return List.copyOf(access.subList(mark, access.size()));
    }

    /** @return whether an access line logged before {@code mark} contains {@code text} */
    synchronized boolean loggedBefore(int mark, String text) {
        for (int i = mark - 1; i >= 0; i--) {
            if (access.get(i).contains(text)) {
                return true;
            }
        }
        return false;
    }

    synchronized int crashMark() {
        return crashes.size();
    }

    synchronized List<String> crashesSince(int mark) {
        return List.copyOf(crashes.subList(mark, crashes.size()));
    }

    synchronized int warningMark() {
        return warnings.size();
    }

    synchronized List<String> warningsSince(int mark) {
        return List.copyOf(warnings.subList(mark, warnings.size()));
    }

    @Override
    public void close() {
        for (String name : QUIETED) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            l.detachAppender(this);
            l.setAdditive(true);
        }
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(this);
        stop();
    }
}
