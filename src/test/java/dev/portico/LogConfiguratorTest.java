package dev.portico;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.portico.internal.proxy.AccessLog;
import dev.portico.config.AccessLogConfig;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LogConfiguratorTest {
    @Test
    @Timeout(30)
    void theStdoutAccessAppenderDropsAndCountsWhenItsQueueIsFullInsteadOfWaiting() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger written = new AtomicInteger();
        AppenderBase<ILoggingEvent> stuck = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                written.incrementAndGet();
                try {
                    release.await(10, TimeUnit.SECONDS); // a terminal or pipe nobody reads
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        stuck.setContext(context);
        stuck.start();
        LogConfigurator.CountingAsyncAppender appender = new LogConfigurator.CountingAsyncAppender();
        appender.setContext(context);
        appender.setQueueSize(4);
        appender.setNeverBlock(true);
        appender.setDiscardingThreshold(0);
        appender.addAppender(stuck);
        appender.start();
        AccessLog log = new AccessLog(AccessLogConfig.DEFAULTS);
        long before = log.dropped();

        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            appender.doAppend(new LoggingEvent(LogConfiguratorTest.class.getName(),
                    context.getLogger("portico.access"), Level.INFO, "line " + i, null, null));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        long dropped = log.dropped() - before;
        assertThat(millis).as("appending never waited for the stuck writer").isLessThan(5000);
        release.countDown();
        appender.stop(); // the worker writes what was queued, then stops
        // Only what fit in the queue of four (and the batches the worker took before it got stuck) went through;
        // every other line was dropped and counted, none lost uncounted.
        assertThat(dropped).isGreaterThanOrEqualTo(85L);
        assertThat(dropped + written.get()).isEqualTo(100L);
        log.close();
    }
}
