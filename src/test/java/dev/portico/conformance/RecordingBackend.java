package dev.portico.conformance;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A backend on a plain server socket, a thread per connection, that logs every byte it receives per connection,
 * reads requests with the strict {@link WireRequest} reader and answers each one it can delimit with
 * {@code 200 OK}, {@code Content-Length: 2}, {@code ok} (no body for HEAD). A request it cannot read is recorded
 * as an error and its connection closed.
 */
final class RecordingBackend implements AutoCloseable {
    private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            .getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] OK_HEAD = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1);

    /** One accepted connection. Guarded by the backend's lock. */
    static final class Conn {
        final int index;
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        /** Bytes read since the last complete request. */
        long pending;
        boolean open = true;

        Conn(int index) {
            this.index = index;
        }
    }

    /** A complete request and the connection it came on. */
    record Received(int conn, WireRequest request) {
    }

    /** The state at a moment, to diff against later. */
    record Mark(int requests, int errors, long bytes, long truncated, int[] logSizes) {
    }

    /** What happened since a {@link Mark}. */
    record Since(List<Received> requests, List<String> errors, long bytes, long truncated, long pendingOpen,
                 String log) {
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Conn> conns = new ArrayList<>();
    private final List<Received> requests = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private long bytes;
    /** Bytes of requests cut short by the peer closing the connection. */
    private long truncated;

    RecordingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    /** @return {@code 127.0.0.1:PORT} */
    String authority() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    synchronized Mark mark() {
        int[] sizes = new int[conns.size()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = conns.get(i).log.size();
        }
        return new Mark(requests.size(), errors.size(), bytes, truncated, sizes);
    }

    synchronized Since since(Mark m) {
        long pendingOpen = 0;
        StringBuilder log = new StringBuilder();
        for (Conn c : conns) {
            if (c.open) {
                pendingOpen += c.pending;
            }
            int from = c.index < m.logSizes().length ? m.logSizes()[c.index] : 0;
            byte[] all = c.log.toByteArray();
            if (all.length > from) {
                byte[] part = Arrays.copyOfRange(all, from, Math.min(all.length, from + 1500));
                log.append("  conn#").append(c.index).append(c.open ? "" : " (closed)").append(": ")
                        .append(Vector.escape(part)).append(all.length - from > 1500 ? "..." : "").append('\n');
            }
        }
        return new Since(List.copyOf(requests.subList(m.requests(), requests.size())),
                List.copyOf(errors.subList(m.errors(), errors.size())), bytes - m.bytes(),
                truncated - m.truncated(), pendingOpen, log.toString());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Conn c;
                synchronized (this) {
                    sockets.add(s);
                    c = new Conn(conns.size());
                    conns.add(c);
                }
                threads.execute(() -> serve(s, c));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s, Conn c) {
        try (s) {
            InputStream in = new Logging(new BufferedInputStream(s.getInputStream()), c);
            OutputStream out = s.getOutputStream();
            WireRequest r;
            while ((r = WireRequest.read(in)) != null) {
                synchronized (this) {
                    requests.add(new Received(c.index, r));
                    c.pending -= r.rawLength;
                }
                out.write(r.isHead() ? OK_HEAD : OK);
                out.flush();
            }
        } catch (EOFException e) {
            // the proxy closed inside a request: its bytes count as truncated, below
        } catch (WireRequest.Malformed e) {
            synchronized (this) {
                errors.add("conn#" + c.index + ": " + e.getMessage());
            }
        } catch (IOException e) {
            // reset by the proxy: what was read is in the log, and pending for the checks
        } finally {
            synchronized (this) {
                truncated += c.pending;
                c.pending = 0;
                c.open = false;
            }
        }
    }

    /** Counts and logs each byte as the reader consumes it. */
    private final class Logging extends FilterInputStream {
        private final Conn conn;

        Logging(InputStream in, Conn conn) {
            super(in);
            this.conn = conn;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                synchronized (RecordingBackend.this) {
                    conn.log.write(b);
                    conn.pending++;
                    bytes++;
                }
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) {
                synchronized (RecordingBackend.this) {
                    conn.log.write(buf, off, n);
                    conn.pending += n;
                    bytes += n;
                }
            }
            return n;
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
        synchronized (this) {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
