package dev.portico.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a plain server socket, a thread per connection, for answers no HTTP library would send: malformed
 * heads, resets, closes at chosen moments. Records every byte it receives.
 */
public final class RawBackend implements AutoCloseable {
    /** Serves one connection. */
    @FunctionalInterface
    public interface Script {
        void serve(Conn conn) throws IOException;
    }

    /** One accepted connection. */
    public static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        final int index;
        private final ByteArrayOutputStream log;

        Conn(Socket socket, int index, ByteArrayOutputStream log) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            this.index = index;
            this.log = log;
        }

        /** @return the 0-based index of this connection among those accepted */
        public int index() {
            return index;
        }

        /** Reads up to the end of a request head (CRLFCRLF); returns it, or null at EOF. */
        public String readHead() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int state = 0;
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                synchronized (log) {
                    log.write(b);
                }
                state = (b == '\r' && (state == 0 || state == 2)) ? state + 1
                        : (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
                if (state == 4) {
                    return head.toString(StandardCharsets.ISO_8859_1);
                }
            }
            return null;
        }

        /** Reads exactly {@code n} body bytes. */
        public byte[] readBytes(int n) throws IOException {
            byte[] b = in.readNBytes(n);
            synchronized (log) {
                log.write(b, 0, b.length);
            }
            return b;
        }

        public void write(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        public void write(byte[] b) throws IOException {
            out.write(b);
            out.flush();
        }

        /** Closes with a reset (SO_LINGER 0) instead of a FIN. */
        public void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        public void close() throws IOException {
            socket.close();
        }
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final AtomicInteger accepted = new AtomicInteger();

    private RawBackend(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Conn c = new Conn(s, accepted.getAndIncrement(), log);
                    threads.execute(() -> {
                        try (s) {
                            script.serve(c);
                        } catch (IOException ignored) {
                            // the proxy closed the connection; the test asserts on what it saw
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    public static RawBackend start(Script script) throws IOException {
        return new RawBackend(script);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** @return everything received on all connections so far, as ISO-8859-1 text */
    public String received() {
        synchronized (log) {
            return log.toString(StandardCharsets.ISO_8859_1);
        }
    }

    public int accepted() {
        return accepted.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
