package dev.portico.proxy;

import dev.portico.config.AccessLogConfig.Format;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An access log file with a writer thread of its own. Event loops put entries on a bounded lock-free queue (a full
 * queue drops the entry and counts it) and the writer formats, writes and flushes them. {@link #reopen()} makes the
 * writer close and reopen the path, for log rotation (SIGUSR1).
 */
final class AccessLogFile {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    static final int CAPACITY = 16 * 1024;
    /** Drops counted by writers that were replaced by a reload, so the total stays monotonic. */
    private static final LongAdder CLOSED_DROPS = new LongAdder();

    private final Path path;
    private final Queue<Object[]> queue = PlatformDependent.newFixedMpscQueue(CAPACITY);
    private final LongAdder dropped = new LongAdder();
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean reopen;
    private volatile boolean closed;
    private Writer out;
    private boolean failing;

    AccessLogFile(String path) {
        this.path = Path.of(path);
        this.thread = new Thread(this::run, "portico-access-log");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues an entry; never blocks. */
    void offer(AccessLogEntry entry, Format format) {
        if (closed || !queue.offer(new Object[] {entry, format})) {
            dropped.increment();
            return;
        }
        if (sleeping) {
            LockSupport.unpark(thread);
        }
    }

    void reopen() {
        reopen = true;
        LockSupport.unpark(thread);
    }

    long dropped() {
        return dropped.sum();
    }

    static long droppedByClosedFiles() {
        return CLOSED_DROPS.sum();
    }

    /** Writes what is queued, closes the file and ends the writer (waits up to 5 s for it). */
    void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        CLOSED_DROPS.add(dropped.sumThenReset());
    }

    private void run() {
        open();
        while (true) {
            if (reopen) {
                reopen = false;
                closeFile();
                open();
            }
            Object[] e = queue.poll();
            if (e != null) {
                write(AccessLogFormat.format((AccessLogEntry) e[0], (Format) e[1]));
                continue;
            }
            flush();
            if (closed) {
                break;
            }
            sleeping = true;
            // Checked again after announcing sleep: an entry offered meanwhile sees sleeping and unparks.
            if (queue.isEmpty() && !reopen && !closed) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
            sleeping = false;
        }
        closeFile();
    }

    private void open() {
        try {
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            failing = false;
        } catch (IOException e) {
            out = null;
            LOG.error("cannot open access log {}: {}; lines are dropped until it can be reopened (SIGUSR1)", path,
                    e.toString());
        }
    }

    private void write(String line) {
        if (out == null) {
            dropped.increment();
            return;
        }
        try {
            out.write(line);
            out.write('\n');
        } catch (IOException e) {
            dropped.increment();
            if (!failing) {
                failing = true;
                LOG.error("cannot write access log {}: {}", path, e.toString());
            }
        }
    }

    private void flush() {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                if (!failing) {
                    failing = true;
                    LOG.error("cannot write access log {}: {}", path, e.toString());
                }
            }
        }
    }

    private void closeFile() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                LOG.warn("closing access log {}: {}", path, e.toString());
            }
            out = null;
        }
    }
}
