package dev.portico.internal.proxy;

import dev.portico.config.AccessLogConfig.Format;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
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
    private static final int BATCH_CHARS = 64 * 1024;
    private static final long REPORT_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long NEVER = Long.MIN_VALUE;
    /** Drops counted by writers that were replaced by a reload, so the total stays monotonic. */
    private static final LongAdder CLOSED_DROPS = new LongAdder();

    private final Path path;
    private final Opener opener;
    private final LongSupplier nanoClock;
    private final Queue<Object[]> queue = PlatformDependent.newFixedMpscQueue(CAPACITY);
    private final LongAdder dropped = new LongAdder();
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean reopen;
    private volatile boolean closed;
    private final StringBuilder batch = new StringBuilder();
    private int batchLines;
    private OutputStream out;
    /** Whether the last write failed, perhaps after writing part of a record. */
    private boolean torn;
    private long lastReportNanos = NEVER;
    private long linesSinceReport;

    /** Opens the file for appending; a parameter so that tests can stand in a failing disk. */
    interface Opener {
        OutputStream open(Path path) throws IOException;
    }

    AccessLogFile(String path) {
        this(path, p -> Files.newOutputStream(p, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE), System::nanoTime);
    }

    AccessLogFile(String path, Opener opener, LongSupplier nanoClock) {
        this.opener = opener;
        this.nanoClock = nanoClock;
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
                flush();
                closeFile();
                open();
            }
            Object[] e = queue.poll();
            if (e != null) {
                batch.append(AccessLogFormat.format((AccessLogEntry) e[0], (Format) e[1])).append('\n');
                batchLines++;
                if (batch.length() >= BATCH_CHARS) {
                    flush();
                }
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
            out = opener.open(path);
        } catch (IOException e) {
            out = null;
            LOG.error("cannot open access log {}: {}; lines are dropped until it can be reopened (SIGUSR1)", path,
                    e.toString());
        }
    }

    /**
     * Writes the batch in one call. A failed write may have left part of a record in the file (a full disk takes
     * what fits): the next write then starts on a new line, so the cut record stays alone on its line and every
     * later record is whole.
     */
    private void flush() {
        if (batchLines == 0) {
            return;
        }
        if (out == null) {
            dropped.add(batchLines);
        } else {
            byte[] bytes = (torn ? "\n" + batch : batch.toString()).getBytes(StandardCharsets.UTF_8);
            try {
                out.write(bytes);
                out.flush();
                torn = false;
            } catch (IOException e) {
                torn = true;
                dropped.add(batchLines);
                failed(e, batchLines);
            }
        }
        batch.setLength(0);
        batchLines = 0;
    }

    /** Reports write failures: the first at once, then at most one line a minute with what was lost meanwhile. */
    private void failed(IOException e, int lines) {
        linesSinceReport += lines;
        long now = nanoClock.getAsLong();
        if (lastReportNanos != NEVER && now - lastReportNanos < REPORT_INTERVAL_NANOS) {
            return;
        }
        if (lastReportNanos == NEVER) {
            LOG.error("cannot write access log {}: {}; lines are dropped until writes succeed", path, e.toString());
        } else {
            LOG.error("cannot write access log {}: {} ({} lines dropped since the last report)", path, e.toString(),
                    linesSinceReport);
        }
        lastReportNanos = now;
        linesSinceReport = 0;
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
