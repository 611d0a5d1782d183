package dev.portico.internal.server;

import dev.portico.config.ListenAddress;
import io.netty.channel.Channel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A bound listener and the pipeline initializer of its connections.
 *
 * @param channel the server channel
 * @param initializer its connections' initializer, which knows them
 */
record Listener(Channel channel, FrontendInitializer initializer) {
    /** @return the bound address as {@code host:port} */
    String boundText() {
        InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
        return new ListenAddress(bound.getAddress().getHostAddress(), bound.getPort()).toString();
    }

    /**
     * Stops accepting and drains this listener's connections: idle ones close now, busy ones after their response
     * (which says {@code Connection: close} if it has not started); what is left after {@code drain} is closed.
     */
    void stopAndDrain(Duration drain) {
        channel.close().awaitUninterruptibly();
        initializer.drain();
        GlobalEventExecutor.INSTANCE.schedule(initializer::closeAll, drain.toMillis(), TimeUnit.MILLISECONDS);
    }
}
