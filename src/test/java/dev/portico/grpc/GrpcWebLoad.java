package dev.portico.grpc;

import dev.portico.ProxyServer;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.GrpcBackend;
import io.grpc.testing.protobuf.SimpleRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small load generator, not a test: unary calls of the same request through Portico to grpc-java's server (h2c
 * upstream), from HTTP/1.1 clients as gRPC (passed through), gRPC-Web and gRPC-Web text (translated), so the
 * translation's cost shows as a ratio. Two rounds, the first to warm up. Arguments: seconds per form (default 5),
 * client threads (default 4).
 */
public final class GrpcWebLoad {
    private GrpcWebLoad() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        try (GrpcBackend backend = GrpcBackend.plaintext()) {
            UpstreamConfig up = UpstreamConfig.builder("grpc").servers("http://127.0.0.1:" + backend.port())
                    .protocol(UpstreamConfig.Protocol.H2C).build();
            ProxyServer proxy = new ProxyServer(ProxyConfig.builder()
                    .listen(new ListenAddress("127.0.0.1", 0, true)).workers(1).accessLog(a -> a.enabled(false))
                    .route("/", r -> r.upstream(up).grpcWeb(true)).build()).start();
            try {
                byte[] frame = GrpcH1Backend.frame(SimpleRequest.newBuilder().setRequestMessage("load").build()
                        .toByteArray());
                String uri = "http://127.0.0.1:" + proxy.port() + "/grpc.testing.SimpleService/UnaryRpc";
                String[][] forms = {{"application/grpc", null}, {"application/grpc-web+proto", null},
                    {"application/grpc-web-text", "text"}};
                for (int round = 1; round <= 2; round++) { // the first round warms the JIT up
                    for (String[] form : forms) {
                        byte[] body = form[1] == null ? frame : Base64.getEncoder().encode(frame);
                        double rate = run(uri, form[0], body, seconds, threads);
                        System.out.printf("round %d %-28s %8.0f calls/s (%d threads, %d s)%n", round, form[0], rate,
                                threads, seconds);
                    }
                }
            } finally {
                proxy.stop();
            }
        }
    }

    private static double run(String uri, String type, byte[] body, int seconds, int threads) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(uri)).header("content-type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        AtomicLong calls = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    while (System.nanoTime() < end) {
                        HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() != 200 || r.body().length == 0) {
                            throw new IllegalStateException("unexpected answer " + r.statusCode());
                        }
                        calls.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) {
            t.join();
        }
        return calls.get() / (double) seconds;
    }
}
