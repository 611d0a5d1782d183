package dev.portico.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A logback appender (see logback-test.xml) that keeps every leak Netty's detector reports. */
public final class LeakCollector extends AppenderBase<ILoggingEvent> {
    static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        String msg = event.getFormattedMessage();
        if (msg != null && msg.contains("LEAK")) {
            LEAKS.add(msg);
        }
    }
}
