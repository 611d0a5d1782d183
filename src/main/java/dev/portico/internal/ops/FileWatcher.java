package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import dev.portico.config.ConfigException;
import dev.portico.config.ProxyConfig;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code reload.watch}: watches the configuration file's directory and reloads when the file's content changes.
 * A change is applied once the file has kept its size and modification time for {@link #STABLE_MILLIS} (an editor's
 * save is often several writes; a slow copy may pause) and parses as a valid configuration that differs from the
 * running one; a save that leaves the bytes as they were is not a reload. The directory is watched rather than the
 * file so that replacing the file (a rename, a symlink swap as Kubernetes does for a ConfigMap) is seen too; any
 * event in it only schedules a look at the file, so a busy neighbour (an access log) delays nothing. The first look
 * is at start, so a change made while the proxy was starting is not lost.
 */
final class FileWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    /** How long the file must stay unchanged before it is read. */
    static final long STABLE_MILLIS = 1000;
    /** How often a file that changed is looked at until it is stable. */
    static final long LOOK_MILLIS = 200;

    private final Path file;
    private final Function<String, CompletableFuture<ReloadResult>> reloader;
    private final Supplier<ProxyConfig> running;
    private final WatchService watch;
    private final Thread thread;
    /** The content last acted on (applied, found equal to the running configuration, or found invalid). */
    private byte[] lastDigest;
    /** The size and modification time of that content, so an unchanged file is not read again. */
    private Object lastState;

    FileWatcher(Path file, Function<String, CompletableFuture<ReloadResult>> reloader, Supplier<ProxyConfig> running)
            throws IOException {
        this.file = file.toAbsolutePath();
        this.reloader = reloader;
        this.running = running;
        this.watch = FileSystems.getDefault().newWatchService();
        this.file.getParent().register(watch, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        this.thread = new Thread(this::run, "portico-config-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            boolean pending = true; // look once at start
            Object candidate = null;
            long stableSince = 0;
            while (true) {
                WatchKey key = pending ? watch.poll(LOOK_MILLIS, TimeUnit.MILLISECONDS) : watch.take();
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                    pending = true;
                }
                Object state = state();
                long now = System.nanoTime();
                if (state == null || !state.equals(candidate)) {
                    candidate = state; // missing (between delete and create) or still changing
                    stableSince = now;
                    continue;
                }
                if (now - stableSince < TimeUnit.MILLISECONDS.toNanos(STABLE_MILLIS)) {
                    continue;
                }
                pending = false;
                if (!state.equals(lastState)) {
                    look(state);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    /** The file has been stable: apply it if it is new, valid, and not what is running. */
    private void look(Object state) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return;
        }
        byte[] digest = digest(bytes);
        lastState = state;
        if (Arrays.equals(digest, lastDigest)) {
            return;
        }
        lastDigest = digest;
        ProxyConfig next;
        try {
            next = ProxyConfig.load(file);
        } catch (ConfigException e) {
            LOG.warn("reload.watch: {} changed but is not valid; not applied (the next change is tried):\n  {}",
                    file, String.join("\n  ", e.problems()));
            return;
        }
        if (!next.equals(running.get())) {
            reloader.apply("file change").join();
        }
    }

    /** @return the file's size and modification time (of the target, through links), or null if it is missing */
    private Object state() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return Arrays.asList(a.size(), a.lastModifiedTime(), a.fileKey());
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] digest(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
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
