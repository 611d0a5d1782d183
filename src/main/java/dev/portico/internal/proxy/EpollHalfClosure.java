package dev.portico.internal.proxy;

import io.netty.channel.Channel;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import java.lang.reflect.Field;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes half-closure safe on Netty's epoll transport, which loses a half-closed connection's output.
 *
 * <p>Once a connection's input is shut (the peer sent its FIN), Netty stops watching it for reads; when a write that
 * waited for the socket then completes, the connection is watched for nothing, and Netty's epoll registration
 * removes it from the epoll set ({@code EPOLL_CTL_DEL}) but keeps counting it as added. The next write the socket
 * cannot take at once asks to be told when it can ({@code EPOLL_CTL_MOD} with {@code EPOLLOUT}), which fails with
 * {@code ENOENT}, and Netty shuts the connection's output: what was still to be written is lost. A tunnel whose
 * backend sent its FIN and still reads the client's bytes slowly lost them that way (Netty 4.2.18 to 4.2.21).
 *
 * <p>The fix wraps the connection's registration: after it removed the connection from the epoll set, the
 * registration is put back in the state of one never added, so the next request adds the connection again
 * ({@code EPOLL_CTL_ADD}). It reaches into two private fields of Netty's; if they are not there (another Netty),
 * {@link #allow} says so and the tunnel does without half-closure on that connection, as before it had any.
 */
final class EpollHalfClosure {
    private static final Logger LOG = LoggerFactory.getLogger(EpollHalfClosure.class);
    private static final Field REGISTRATION;
    private static final Field STATE;
    private static final Object NOT_ADDED;

    static {
        Field registration = null;
        Field state = null;
        Object notAdded = null;
        try {
            registration = Class.forName("io.netty.channel.epoll.AbstractEpollChannel")
                    .getDeclaredField("registration");
            registration.setAccessible(true);
            Class<?> impl = Class.forName("io.netty.channel.epoll.EpollIoHandler$DefaultEpollIoRegistration");
            state = impl.getDeclaredField("state");
            state.setAccessible(true);
            notAdded = enumConstant(state.getType(), "Pending");
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.warn("Netty's epoll registration is not as expected: tunnels on epoll close at a FIN, not half-closed",
                    e);
            registration = null;
        }
        REGISTRATION = registration;
        STATE = state;
        NOT_ADDED = notAdded;
    }

    private EpollHalfClosure() {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumConstant(Class<?> type, String name) {
        return Enum.valueOf((Class<? extends Enum>) type.asSubclass(Enum.class), name);
    }

    /**
     * Readies a connection for half-closure. Call on its event loop, while it is registered.
     *
     * @param ch a connection
     * @return whether it may be half-closed: always for a connection not on epoll; for one on epoll, when its
     *     registration could be wrapped
     */
    static boolean allow(Channel ch) {
        if (!ch.getClass().getName().startsWith("io.netty.channel.epoll.")) {
            return true;
        }
        if (REGISTRATION == null || !ch.isRegistered() || !ch.eventLoop().inEventLoop()) {
            return false;
        }
        if (!REGISTRATION.getDeclaringClass().isInstance(ch)) {
            return false;
        }
        try {
            Object r = REGISTRATION.get(ch);
            if (r instanceof Rearming) {
                return true;
            }
            Object epoll = epollRegistration(r);
            if (epoll == null) {
                return false;
            }
            REGISTRATION.set(ch, new Rearming((IoRegistration) r, epoll));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("{} could not wrap the epoll registration", ch, e);
            return false;
        }
    }

    /**
     * @return the epoll registration {@code r} is or wraps (the event loop's wrapper counts registrations), or
     *     {@code null}
     */
    private static Object epollRegistration(Object r) throws IllegalAccessException {
        if (r == null || r.getClass() == STATE.getDeclaringClass()) {
            return r;
        }
        for (Field f : r.getClass().getDeclaredFields()) {
            if (f.getType() == IoRegistration.class) {
                f.setAccessible(true);
                Object inner = f.get(r);
                return inner != null && inner.getClass() == STATE.getDeclaringClass() ? inner : null;
            }
        }
        return null;
    }

    /** A registration that is added to the epoll set again after it was removed for having nothing to watch. */
    private static final class Rearming implements IoRegistration {
        private final IoRegistration delegate;
        /** Netty's epoll registration: {@code delegate} or the one it wraps. */
        private final Object epoll;

        Rearming(IoRegistration delegate, Object epoll) {
            this.delegate = delegate;
            this.epoll = epoll;
        }

        @Override
        public <T> T attachment() {
            return delegate.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            long r = delegate.submit(ops);
            if (ops instanceof EpollIoOps e && e.value() == 0) {
                synchronized (epoll) { // the lock Netty changes the state under
                    if (delegate.isValid()) {
                        try {
                            STATE.set(epoll, NOT_ADDED); // out of the epoll set: the next request adds it
                        } catch (IllegalAccessException ex) {
                            throw new IllegalStateException(ex); // cannot happen: made accessible when loaded
                        }
                    }
                }
            }
            return r;
        }

        @Override
        public boolean isValid() {
            return delegate.isValid();
        }

        @Override
        public boolean cancel() {
            return delegate.cancel();
        }
    }
}
