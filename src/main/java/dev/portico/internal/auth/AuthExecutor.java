package dev.portico.internal.auth;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that check password hashes, shared by every {@code basic_auth} policy: half the cores (at least two),
 * and a queue of {@link #QUEUE} checks. A check that finds the queue full is refused
 * ({@link java.util.concurrent.RejectedExecutionException}) and its request answered 503, so a flood of wrong
 * passwords costs bounded CPU and memory instead of pinning every core. Daemon threads: nothing to close.
 */
public final class AuthExecutor {
    /** The most checks waiting for a thread. */
    public static final int QUEUE = 256;
    private static final Executor SHARED = create();

    private AuthExecutor() {
    }

    /** @return the shared executor */
    public static Executor shared() {
        return SHARED;
    }

    private static Executor create() {
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors() / 2);
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor e = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "portico-auth-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        e.allowCoreThreadTimeOut(true);
        return e;
    }
}
