package dev.portico.internal.proxy;

import dev.portico.config.AccessLogConfig;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per exchange, in the combined or JSON format, to stdout (through the {@code portico.access} logger and
 * its non-blocking async appender) or to a file (through {@link AccessLogFile}'s lock-free queue and writer thread).
 * Either way the event loop never waits for the disk or a pipe; what cannot be queued is dropped and counted.
 * Settings are swapped whole on reload.
 */
public final class AccessLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico.access");
    /** Lines the stdout appender dropped because its queue was full (one process-wide appender, one count). */
    private static final LongAdder STDOUT_DROPPED = new LongAdder();

    /** The current settings; read once per line. */
    private volatile Settings settings;

    private record Settings(AccessLogConfig config, AccessLogFile file) {
    }

    /** @param config the initial settings */
    public AccessLog(AccessLogConfig config) {
        settings = new Settings(config, config.enabled() && !config.toStdout() ? new AccessLogFile(config.path())
                : null);
    }

    /**
     * Applies new settings: the file is reopened only if its path changed.
     *
     * @param config the new settings
     */
    public synchronized void configure(AccessLogConfig config) {
        Settings old = settings;
        AccessLogFile file = null;
        if (config.enabled() && !config.toStdout()) {
            file = old.file != null && old.config.path().equals(config.path()) ? old.file
                    : new AccessLogFile(config.path());
        }
        settings = new Settings(config, file);
        if (old.file != null && old.file != file) {
            old.file.close();
        }
    }

    /** Reopens the file (after a log rotation moved it away); nothing for stdout. */
    public void reopen() {
        AccessLogFile f = settings.file;
        if (f != null) {
            f.reopen();
        }
    }

    /** @return whether lines are written at all */
    public boolean enabled() {
        return settings.config.enabled();
    }

    /**
     * Writes one line, or queues it for the file writer.
     *
     * @param entry the exchange
     */
    public void log(AccessLogEntry entry) {
        Settings s = settings;
        if (!s.config.enabled()) {
            return;
        }
        if (s.file != null) {
            s.file.offer(entry, s.config.format());
        } else if (LOG.isInfoEnabled()) {
            LOG.info(AccessLogFormat.format(entry, s.config.format()));
        }
    }

    /** Counts a line the stdout appender could not queue. Called by the appender. */
    public static void countStdoutDrop() {
        STDOUT_DROPPED.increment();
    }

    /** @return lines dropped because the writer could not keep up, since start */
    public long dropped() {
        AccessLogFile f = settings.file;
        return STDOUT_DROPPED.sum() + (f == null ? 0 : f.dropped()) + AccessLogFile.droppedByClosedFiles();
    }

    /** Writes what is queued and stops the file writer. */
    @Override
    public synchronized void close() {
        AccessLogFile f = settings.file;
        if (f != null) {
            f.close();
        }
    }
}
