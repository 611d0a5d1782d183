package dev.portico.bench;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * A unary gRPC benchmark for {@code bench/grpc.sh}, on grpc-java and the precompiled {@code SimpleService} of
 * {@code grpc-testing-proto}:
 * <pre>
 *   GrpcBench server PORT                              # the backend: UnaryRpc echoes the request's message;
 *                                                      # PORT 0 picks one; says "listening on PORT" on stderr
 *   GrpcBench load HOST:PORT CONCURRENCY SECONDS [WARMUP_SECONDS] [CHANNELS] [PAYLOAD_BYTES]
 * </pre>
 * The load keeps CONCURRENCY unary calls in flight (spread over CHANNELS connections, 1 by default: gRPC
 * multiplexes its calls on one HTTP/2 connection) for SECONDS after WARMUP_SECONDS, and prints one line:
 * {@code calls=N errors=N seconds=S rps=R p50_ms=X p99_ms=Y max_ms=Z}. Latencies go into fixed buckets of 10 us up
 * to 1 s (above: the last bucket), so recording allocates nothing and needs no lock.
 */
public final class GrpcBench {
    private static final int BUCKETS = 100_000;
    private static final long BUCKET_NANOS = 10_000;

    private GrpcBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("server")) {
            serve(Integer.parseInt(args[1]));
        } else if (args.length >= 4 && args[0].equals("load")) {
            load(args);
        } else {
            System.err.println("usage: GrpcBench server PORT | GrpcBench load HOST:PORT CONCURRENCY SECONDS "
                    + "[WARMUP_SECONDS] [CHANNELS] [PAYLOAD_BYTES]");
            System.exit(2);
        }
    }

    private static void serve(int port) throws Exception {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .directExecutor() // the echo never blocks: answered on the event loop
                .addService(new SimpleServiceGrpc.SimpleServiceImplBase() {
                    @Override
                    public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> answer) {
                        answer.onNext(SimpleResponse.newBuilder()
                                .setResponseMessage(request.getRequestMessage()).build());
                        answer.onCompleted();
                    }
                }).build().start();
        System.err.println("listening on " + server.getPort());
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        server.awaitTermination();
    }

    private static void load(String[] args) throws Exception {
        String[] target = args[1].split(":");
        int concurrency = Integer.parseInt(args[2]);
        double seconds = Double.parseDouble(args[3]);
        double warmup = args.length > 4 ? Double.parseDouble(args[4]) : 0;
        int channels = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        int payload = args.length > 6 ? Integer.parseInt(args[6]) : 16;
        SimpleRequest request = SimpleRequest.newBuilder().setRequestMessage("x".repeat(payload)).build();
        List<ManagedChannel> open = new ArrayList<>();
        for (int i = 0; i < channels; i++) {
            open.add(NettyChannelBuilder.forAddress(target[0], Integer.parseInt(target[1])).usePlaintext()
                    .directExecutor().build());
        }
        Run run = new Run(request);
        long start = System.nanoTime();
        run.measureFrom = start + (long) (warmup * 1e9);
        run.end = run.measureFrom + (long) (seconds * 1e9);
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            run.next(SimpleServiceGrpc.newStub(open.get(i % channels)), done);
        }
        done.await((long) (warmup + seconds + 30), TimeUnit.SECONDS);
        double measured = (Math.min(System.nanoTime(), run.end) - run.measureFrom) / 1e9;
        long calls = run.calls.sum();
        System.out.printf(Locale.ROOT, "calls=%d errors=%d seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f%n",
                calls, run.errors.sum(), measured, calls / measured, run.percentile(0.50), run.percentile(0.99),
                run.percentile(1.0));
        if (run.firstError.get() != null) {
            System.out.println("first_error=" + run.firstError.get());
        }
        open.forEach(ManagedChannel::shutdownNow);
    }

    /** The calls of one load run: each finished call records its latency (if measured) and starts the next. */
    private static final class Run {
        private final SimpleRequest request;
        private final AtomicLongArray histogram = new AtomicLongArray(BUCKETS);
        private final LongAdder calls = new LongAdder();
        private final LongAdder errors = new LongAdder();
        private final AtomicReference<String> firstError = new AtomicReference<>();
        private long measureFrom;
        private long end;

        Run(SimpleRequest request) {
            this.request = request;
        }

        void next(SimpleServiceGrpc.SimpleServiceStub stub, CountDownLatch done) {
            long t0 = System.nanoTime();
            if (t0 >= end) {
                done.countDown();
                return;
            }
            stub.unaryRpc(request, new StreamObserver<>() {
                @Override
                public void onNext(SimpleResponse value) {
                }

                @Override
                public void onError(Throwable t) {
                    finished(t0, Status.fromThrowable(t).toString());
                    next(stub, done);
                }

                @Override
                public void onCompleted() {
                    finished(t0, null);
                    next(stub, done);
                }
            });
        }

        private void finished(long t0, String error) {
            long t1 = System.nanoTime();
            if (t0 < measureFrom || t1 > end) {
                return; // warm-up, or past the end: not counted
            }
            if (error != null) {
                errors.increment();
                firstError.compareAndSet(null, error);
                return;
            }
            calls.increment();
            histogram.incrementAndGet((int) Math.min(BUCKETS - 1, (t1 - t0) / BUCKET_NANOS));
        }

        /** @return the latency at quantile {@code q} in milliseconds (the upper edge of its bucket) */
        double percentile(double q) {
            long total = 0;
            for (int i = 0; i < BUCKETS; i++) {
                total += histogram.get(i);
            }
            long rank = Math.max(1, (long) Math.ceil(q * total));
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += histogram.get(i);
                if (seen >= rank) {
                    return (i + 1) * BUCKET_NANOS / 1e6;
                }
            }
            return 0;
        }
    }
}
