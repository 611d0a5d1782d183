package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.config.AccessLogConfig.Format;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** The access-log writer on a disk that fills up and frees again: whole records only, and failures reported. */
@Timeout(30)
class AccessLogDiskFullTest {
    private final Disk disk = new Disk();
    private final AtomicLong clock = new AtomicLong();
    private final Logger logger = (Logger) LoggerFactory.getLogger("portico");
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private AccessLogFile file;

    @BeforeEach
    void start() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        file = new AccessLogFile("disk.log", p -> disk, clock::get);
    }

    @AfterEach
    void stop() {
        file.close();
        logger.detachAppender(appender);
    }

    @Test
    void aRecordCutByAFullDiskIsNotGluedToTheNextOne() {
        log("/one");
        await().until(() -> disk.text().contains("/one"));
        int before = disk.size();
        disk.room(10);
        log("/two");
        await().until(() -> disk.size() == before + 10 && file.dropped() == 1);
        disk.room(Integer.MAX_VALUE);
        log("/three");
        file.close();

        List<String> lines = Arrays.asList(disk.text().split("\n", -1));
        assertThat(lines).filteredOn(l -> l.contains("/one")).containsExactly(line("/one"));
        assertThat(lines).filteredOn(l -> l.contains("/three")).containsExactly(line("/three"));
        assertThat(disk.text()).endsWith("\n").doesNotContain("/two");
        assertThat(lines).filteredOn(l -> !l.isEmpty() && !l.contains("/one") && !l.contains("/three"))
                .as("only the cut record's start, alone on its line").containsExactly(line("/two").substring(0, 10));
    }

    @Test
    void failuresAreReportedOnceAMinuteWithTheirCount() {
        disk.room(0);
        log("/a");
        await().until(() -> errors().size() == 1);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(30));
        log("/b");
        log("/c");
        await().until(() -> file.dropped() == 3);
        assertThat(errors()).hasSize(1);

        disk.room(Integer.MAX_VALUE);
        log("/d");
        await().until(() -> disk.text().contains("/d"));
        disk.room(0);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(31));
        log("/e");

        await().until(() -> errors().size() == 2);
        assertThat(errors().get(1)).contains("disk.log", "No space left on device", "3 lines dropped since the last report");
        assertThat(file.dropped()).isEqualTo(4);
    }

    private void log(String target) {
        file.offer(entry(target), Format.COMBINED);
    }

    private static String line(String target) {
        return AccessLogFormat.format(entry(target), Format.COMBINED);
    }

    private static AccessLogEntry entry(String target) {
        return new AccessLogEntry(0, "127.0.0.1", "GET", target, "HTTP/1.1", 200, 1, 0, null, -1, "id", null, 1,
                null, null, null, null);
    }

    private List<String> errors() {
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel() == Level.ERROR)
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** A file system with a given room left: a write that does not fit writes what fits, then fails. */
    private static final class Disk extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private long room = Integer.MAX_VALUE;

        synchronized void room(long n) {
            room = n;
        }

        synchronized int size() {
            return bytes.size();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            int n = (int) Math.min(len, room);
            bytes.write(b, off, n);
            room -= n;
            if (n < len) {
                throw new IOException("No space left on device");
            }
        }
    }
}
