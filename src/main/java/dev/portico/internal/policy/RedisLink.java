package dev.portico.internal.policy;

import dev.portico.config.RedisConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection to the {@code redis:} server that {@code store: redis} policies share, through Lettuce: one
 * multiplexed connection, asynchronous commands only, so no event loop ever waits on Redis. Lettuce's connection and
 * its callbacks run on Portico's own event loops (the proxy's I/O group, lent and never shut down by Lettuce), so
 * Redis costs Portico one timer thread and no event loop of its own; a link made without a group (tests of the
 * registry alone) gets one I/O and one callback thread.
 *
 * <p>Failures never queue: once connected, a command sent while the connection is down fails at once (so
 * {@code on_store_failure} applies without waiting), and Lettuce reconnects by itself with a short backoff. Commands
 * sent while the first connection is being made wait for it (within their timeout); a link that could not connect
 * tries again on use, at most once a second. Owned by a {@link PolicyRegistry}; closed when no configuration uses it
 * any more.
 */
final class RedisLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final RedisConfig config;
    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;
    /** The connection once made; Lettuce keeps it (reconnecting) from then on. */
    private volatile StatefulRedisConnection<String, String> connection;
    /** The first connection while it is being made, else null. */
    private volatile CompletableFuture<StatefulRedisConnection<String, String>> pending;
    private volatile boolean closed;
    private volatile long lastAttempt = System.nanoTime() - RETRY_NANOS;

    /**
     * @param config the settings
     * @param loops the proxy's event loop group to run on, or null for small threads of Lettuce's own
     */
    RedisLink(RedisConfig config, EventLoopGroup loops) {
        this.config = config;
        RedisURI u = RedisURI.create(config.url());
        if (!config.password().isEmpty()) {
            if (config.username().isEmpty()) {
                u.setAuthentication(config.password());
            } else {
                u.setAuthentication(config.username(), config.password());
            }
        }
        u.setTimeout(config.timeout());
        this.uri = u;
        ClientResources.Builder r = ClientResources.builder().reconnectDelay(Delay.exponential(Duration.ofMillis(20),
                Duration.ofMillis(500), 2, TimeUnit.MILLISECONDS));
        if (loops != null) {
            r.eventLoopGroupProvider(new LentLoops(loops)).eventExecutorGroup(loops);
        } else {
            r.ioThreadPoolSize(1).computationThreadPoolSize(1);
        }
        this.resources = r.build();
        this.client = RedisClient.create(resources, u);
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.timeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(2)).keepAlive(true)
                        .tcpNoDelay(true).build())
                .requestQueueSize(65_536)
                .build());
        connect();
    }

    /** @return the settings this link was made for */
    RedisConfig config() {
        return config;
    }

    /**
     * Runs a script by its digest, loading it on {@code NOSCRIPT} (a restarted or flushed Redis).
     *
     * @return the script's reply, or a failure; never completes on the caller's thread before returning
     */
    CompletableFuture<List<Object>> eval(RedisScript script, String key, String... args) {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            return run(c, script, key, args);
        }
        CompletableFuture<StatefulRedisConnection<String, String>> p = pending;
        if (p == null) {
            connect();
            p = pending;
        }
        if (p == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected to " + config.url()));
        }
        return p.thenCompose(conn -> run(conn, script, key, args));
    }

    private static CompletableFuture<List<Object>> run(StatefulRedisConnection<String, String> c, RedisScript script,
                                                       String key, String[] args) {
        String[] keys = {key};
        CompletableFuture<List<Object>> f;
        try {
            f = c.async().<List<Object>>evalsha(script.sha(), ScriptOutputType.MULTI, keys, args)
                    .toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e); // a link closed by a reload while a request was on its way
        }
        return f.exceptionallyCompose(e -> {
            if (String.valueOf(e.getMessage()).contains("NOSCRIPT")) {
                return c.async().<List<Object>>eval(script.text(), ScriptOutputType.MULTI, keys, args)
                        .toCompletableFuture();
            }
            return CompletableFuture.failedFuture(e);
        });
    }

    /** Makes the first connection in the background, unless one is made, being made, or was tried within a second. */
    private synchronized void connect() {
        long now = System.nanoTime();
        if (closed || connection != null || pending != null || now - lastAttempt < RETRY_NANOS) {
            return;
        }
        lastAttempt = now;
        CompletableFuture<StatefulRedisConnection<String, String>> p =
                client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
        pending = p;
        p.whenComplete((c, e) -> {
            synchronized (this) {
                if (e != null) {
                    LOG.debug("redis {}: cannot connect: {}", config.url(), e.toString());
                } else {
                    connection = c; // closed meanwhile: the client's shutdown closes it
                }
                pending = null;
            }
        });
    }

    /** The proxy's event loops, lent to Lettuce: it may use them, never shut them down. */
    private static final class LentLoops implements EventLoopGroupProvider {
        private final EventLoopGroup loops;

        LentLoops(EventLoopGroup loops) {
            this.loops = loops;
        }

        @Override
        public <T extends EventLoopGroup> T allocate(Class<T> type) {
            if (!type.isInstance(loops)) {
                throw new IllegalStateException("Lettuce asks for a " + type.getName() + ", the proxy runs a "
                        + loops.getClass().getName());
            }
            return type.cast(loops);
        }

        @Override
        public int threadPoolSize() {
            int n = 0;
            for (EventExecutor ignored : loops) {
                n++;
            }
            return n;
        }

        @Override
        public Future<Boolean> release(EventExecutorGroup group, long quiet, long timeout, TimeUnit unit) {
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(Boolean.TRUE);
        }

        @Override
        public Future<Boolean> shutdown(long quiet, long timeout, TimeUnit unit) {
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(Boolean.TRUE);
        }
    }

    /** @return whether {@link #close()} was called */
    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        client.shutdownAsync(100, 2000, TimeUnit.MILLISECONDS).whenComplete((v, e) ->
                resources.shutdown(100, 2000, TimeUnit.MILLISECONDS));
    }
}
