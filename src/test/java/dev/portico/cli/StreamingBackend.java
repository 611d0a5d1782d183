package dev.portico.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.CRC32;

/**
 * A blocking-socket backend, a thread per connection, that never holds a body in memory: {@code POST /upload}
 * counts the request body (Content-Length or chunked) and answers {@code COUNT CRC32}; {@code GET /download?bytes=N}
 * streams N bytes of {@link Pattern}. Blocking writes give natural backpressure.
 */
final class StreamingBackend implements AutoCloseable {
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    StreamingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                threads.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            OutputStream out = socket.getOutputStream();
            String head;
            while ((head = readHead(in)) != null) {
                String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
                if (requestLine[0].equals("POST") && requestLine[1].equals("/upload")) {
                    upload(head, in, out);
                } else if (requestLine[0].equals("GET") && requestLine[1].startsWith("/download?bytes=")) {
                    download(Long.parseLong(requestLine[1].substring("/download?bytes=".length())), out);
                } else {
                    respond(out, "404 Not Found", "no such resource\n");
                }
            }
        } catch (IOException ignored) {
            // the proxy closed the connection; the test sees the failure on its side
        }
    }

    private static void upload(String head, InputStream in, OutputStream out) throws IOException {
        String lower = head.toLowerCase(Locale.ROOT);
        CRC32 crc = new CRC32();
        long count;
        if (lower.contains("\r\ntransfer-encoding: chunked\r\n")) {
            count = readChunked(in, crc);
        } else {
            int at = lower.indexOf("\r\ncontent-length:");
            String value = lower.substring(at + 17, lower.indexOf("\r\n", at + 2)).trim();
            count = readExactly(in, Long.parseLong(value), crc);
        }
        respond(out, "200 OK", count + " " + Long.toHexString(crc.getValue()));
    }

    private static void download(long bytes, OutputStream out) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + bytes
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        Pattern.write(out, bytes);
        out.flush();
    }

    private static void respond(OutputStream out, String status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " + b.length
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
        out.flush();
    }

    private static long readExactly(InputStream in, long n, CRC32 crc) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                throw new IOException("body ended after " + (n - left) + " of " + n + " bytes");
            }
            crc.update(buf, 0, r);
            left -= r;
        }
        return n;
    }

    private static long readChunked(InputStream in, CRC32 crc) throws IOException {
        long total = 0;
        while (true) {
            String sizeLine = readLine(in);
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailer fields: not needed
                }
                return total;
            }
            total += readExactly(in, size, crc);
            if (!readLine(in).isEmpty()) {
                throw new IOException("chunk not followed by CRLF");
            }
        }
    }

    /** @return the request head up to and including CRLFCRLF, or null at a clean EOF */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            int n = head.size();
            if (n >= 4 && b == '\n') {
                byte[] h = head.toByteArray();
                if (h[n - 2] == '\r' && h[n - 3] == '\n' && h[n - 4] == '\r') {
                    return head.toString(StandardCharsets.ISO_8859_1);
                }
            }
        }
        return null;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            sb.append((char) b);
        }
        if (b < 0) {
            throw new IOException("EOF inside a chunked body");
        }
        return sb.toString().endsWith("\r") ? sb.substring(0, sb.length() - 1) : sb.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }

    /**
     * The body bytes: a seeded random block repeated with a prime period ({@value #PERIOD}), so repetitions never
     * line up with the power-of-two buffer sizes of the code under test. Written without allocating.
     */
    static final class Pattern {
        static final int PERIOD = 1_048_573;
        static final int CHUNK = 64 * 1024;
        private static final byte[] BYTES = new byte[PERIOD + CHUNK];

        static {
            new java.util.Random(42).nextBytes(BYTES);
            System.arraycopy(BYTES, 0, BYTES, PERIOD, CHUNK);
        }

        private Pattern() {
        }

        /** Writes the first {@code n} pattern bytes. */
        static void write(OutputStream out, long n) throws IOException {
            for (long pos = 0; pos < n; ) {
                int len = (int) Math.min(CHUNK, n - pos);
                out.write(BYTES, (int) (pos % PERIOD), len);
                pos += len;
            }
        }

        /** @return the CRC32 of the first {@code n} pattern bytes */
        static long crc(long n) {
            CRC32 crc = new CRC32();
            for (long pos = 0; pos < n; ) {
                int len = (int) Math.min(CHUNK, n - pos);
                crc.update(BYTES, (int) (pos % PERIOD), len);
                pos += len;
            }
            return crc.getValue();
        }
    }
}
