package dev.portico.ops;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code reload.watch}: watches the configuration file's directory and reloads when the file's content changes.
 * Events are debounced (an editor's save is often several writes) and a save that leaves the bytes as they were is
 * not a reload. The directory is watched rather than the file so that replacing the file (a rename, a symlink
 * swap as Kubernetes does for a ConfigMap) is seen too.
 */
final class FileWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    static final long DEBOUNCE_MILLIS = 150;

    private final Path file;
    private final Function<String, CompletableFuture<ReloadResult>> reloader;
    private final WatchService watch;
    private final Thread thread;
    private byte[] lastDigest;

    FileWatcher(Path file, Function<String, CompletableFuture<ReloadResult>> reloader) throws IOException {
        this.file = file.toAbsolutePath();
        this.reloader = reloader;
        this.lastDigest = digest();
        this.watch = FileSystems.getDefault().newWatchService();
        this.file.getParent().register(watch, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        this.thread = new Thread(this::run, "portico-config-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watch.take();
                // Let a burst of writes settle, then take every event of the burst at once.
                Thread.sleep(DEBOUNCE_MILLIS);
                key.pollEvents();
                key.reset();
                WatchKey more;
                while ((more = watch.poll(10, TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
                byte[] now = digest();
                if (now != null && !Arrays.equals(now, lastDigest)) {
                    lastDigest = now;
                    reloader.apply("file change").join();
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    /** @return the SHA-256 of the file's bytes, or null if it cannot be read now (e.g. between delete and create) */
    private byte[] digest() {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            LOG.debug("closing the config watch", e);
        }
        thread.interrupt();
    }
}
